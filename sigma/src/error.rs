//! What can be wrong with a Sigma file, said with the file and the rule.

/// A Sigma file that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SigmaError {
    #[error("{file}: not valid YAML: {message}")]
    Yaml { file: String, message: String },
    #[error("{file}: rule {rule:?}: {message}")]
    Invalid {
        file: String,
        rule: String,
        message: String,
    },
}

/// A problem inside one rule, before the file and rule name are known.
pub(crate) type Problem = String;

//! User-agent families: which tool or SDK made a call, not its version.

/// The family of a user agent, checked in order: a tool built on an SDK
/// (Terraform on the Go SDK, the CLI on botocore) is the tool.
const FAMILIES: [(&str, &str); 26] = [
    ("terraform", "terraform"),
    ("pulumi", "pulumi"),
    ("aws-cdk", "aws-cdk"),
    ("cloudformation.amazonaws.com", "cloudformation"),
    ("aws-cli/", "aws-cli"),
    ("aws-sdk-java", "aws-sdk-java"),
    ("aws-sdk-go", "aws-sdk-go"),
    ("aws-sdk-js", "aws-sdk-js"),
    ("aws-sdk-nodejs", "aws-sdk-js"),
    ("aws-sdk-dotnet", "aws-sdk-dotnet"),
    ("aws-sdk-ruby", "aws-sdk-ruby"),
    ("aws-sdk-php", "aws-sdk-php"),
    ("aws-sdk-rust", "aws-sdk-rust"),
    ("aws-sdk-cpp", "aws-sdk-cpp"),
    ("boto3", "boto3"),
    ("botocore", "boto3"),
    ("signin.amazonaws.com", "aws-console"),
    ("console.amazonaws.com", "aws-console"),
    ("aws internal", "aws-internal"),
    (".amazonaws.com", "aws-service"),
    ("python-requests", "python-requests"),
    ("curl/", "curl"),
    ("go-http-client", "go-http-client"),
    ("powershell", "powershell"),
    ("mozilla/", "browser"),
    ("okhttp", "okhttp"),
];

/// The family of `user_agent` (`other` when none is known; `None` for none).
pub fn family(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.trim();
    if ua.is_empty() {
        return None;
    }
    let lower = ua.to_ascii_lowercase();
    Some(
        FAMILIES
            .iter()
            .find(|(needle, _)| lower.contains(needle))
            .map(|(_, family)| *family)
            .unwrap_or("other"),
    )
}

/// Whether a family is a program (an SDK, the CLI, infrastructure as code)
/// rather than a person at a console or browser.
pub fn is_automation(family: &str) -> bool {
    family.starts_with("aws-sdk")
        || matches!(
            family,
            "aws-cli" | "boto3" | "terraform" | "pulumi" | "aws-cdk" | "cloudformation"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_of_real_user_agents() {
        for (ua, expected) in [
            ("aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 botocore/2.0", "aws-cli"),
            ("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux", "boto3"),
            ("APN/1.0 HashiCorp/1.0 Terraform/1.6.0 (+https://www.terraform.io) terraform-provider-aws/5.0 aws-sdk-go-v2/1.24", "terraform"),
            ("aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21", "aws-sdk-go"),
            ("aws-sdk-java/2.20.0 Linux/5.10", "aws-sdk-java"),
            ("signin.amazonaws.com", "aws-console"),
            ("AWS Internal", "aws-internal"),
            ("lambda.amazonaws.com", "aws-service"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120", "browser"),
            ("python-requests/2.31.0", "python-requests"),
            ("something-else/1.0", "other"),
        ] {
            assert_eq!(family(ua), Some(expected), "{ua}");
        }
        assert_eq!(family("  "), None);
        assert!(is_automation("terraform") && is_automation("aws-sdk-go"));
        assert!(!is_automation("browser") && !is_automation("aws-console"));
    }
}

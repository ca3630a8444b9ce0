//! The rule format (one TOML file per rule) and its loading and validation.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_ingest::{Family, Table};
use vigil_sigma::Placeholders;

use crate::sigma::{parse_sigma_files, SigmaSource};

use crate::error::{DetectError, RuleError};
use crate::finding::Severity;
use crate::guard;
use crate::template::{self, ParamValue};

/// How a rule is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Over each ingested batch, in memory.
    Streaming,
    /// Over sliding windows of the lake.
    Scheduled(Schedule),
}

/// When a scheduled rule runs and what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// How much time each run covers.
    pub window: Duration,
    /// How often it runs (window ends are multiples of this).
    pub every: Duration,
    /// How long to wait for late data before a window is final.
    pub lag: Duration,
    /// History before the window the SQL may read (baselines), 0 for none.
    pub lookback: Duration,
    /// How much data the rule's tables must hold before a window starts for
    /// the rule to run on it: a baseline learnt from less is no baseline, so
    /// the first windows of a new lake stay quiet. 0 for none.
    pub min_history: Duration,
}

/// One test case of a rule: raw records in, expected findings out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    pub name: String,
    /// The log family of `records` (cloudtrail, apigateway, lambda, waf), or
    /// `None` (`format = "auto"`) to recognise each record's family by its
    /// shape, for rules that join tables.
    #[serde(deserialize_with = "family")]
    pub format: Option<Family>,
    /// Records in their raw log format, one per entry.
    pub records: Vec<String>,
    /// How many findings the rule must produce.
    pub expect_count: usize,
    /// Key columns each expected finding must have (each entry matches a different finding).
    #[serde(default)]
    pub expect: Vec<BTreeMap<String, String>>,
    /// Indicators in force while the test runs (a plain list's lines, or
    /// `{ value = "...", kind = "user_agent" }`), for rules that use `intel_match`.
    #[serde(default)]
    pub intel: Vec<TestIndicator>,
    /// Whether the made-up GeoIP/ASN database of the documentation address
    /// ranges (`sample-context/geoip-sample.mmdb`) is in force while the
    /// test runs, for rules that use the `geo_*` functions.
    #[serde(default)]
    pub geoip: bool,
}

/// One indicator of a rule test.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TestIndicator {
    Value(String),
    Described { value: String, kind: String },
}

fn family<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Family>, D::Error> {
    let s = String::deserialize(d)?;
    if s == "auto" {
        return Ok(None);
    }
    s.parse().map(Some).map_err(serde::de::Error::custom)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    title: String,
    description: String,
    severity: Severity,
    mode: String,
    window: Option<String>,
    every: Option<String>,
    lag: Option<String>,
    lookback: Option<String>,
    min_history: Option<String>,
    #[serde(default)]
    dedup: DedupFile,
    #[serde(default)]
    params: BTreeMap<String, ParamValue>,
    #[serde(default)]
    tags: Vec<String>,
    runbook: String,
    #[serde(default)]
    references: Vec<String>,
    sql: toml::Spanned<String>,
    #[serde(default)]
    tests: Vec<RuleTest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DedupFile {
    #[serde(default)]
    columns: Vec<String>,
    #[serde(default = "default_period")]
    period: String,
}

impl Default for DedupFile {
    fn default() -> Self {
        DedupFile {
            columns: Vec::new(),
            period: default_period(),
        }
    }
}

fn default_period() -> String {
    "1h".into()
}

/// Whether a rule file must carry tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TestsRequired {
    Yes,
    /// None is fine; if there are some, a positive and a negative one.
    WhenAny,
}

/// A loaded, validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub mode: Mode,
    /// Result columns whose values make the dedup key (empty: the entity columns present).
    pub dedup_columns: Vec<String>,
    /// Findings with the same key within this period are one finding.
    pub dedup_period: Duration,
    pub params: BTreeMap<String, ParamValue>,
    pub tags: Vec<String>,
    pub runbook: String,
    pub references: Vec<String>,
    /// The SQL with `${param}` placeholders still in it.
    pub sql_template: String,
    /// The lake tables the SQL reads.
    pub tables: Vec<Table>,
    /// The context tables the SQL reads (`intel`, `first_seen`).
    pub context_tables: Vec<&'static str>,
    pub tests: Vec<RuleTest>,
    /// The rule file (`builtin:<path>` for rules compiled in).
    pub path: PathBuf,
    /// The line of the file where the SQL starts.
    pub sql_line: usize,
}

impl Rule {
    /// Whether the SQL reads the `first_seen` facts (a scheduled rule only).
    pub fn reads_first_seen(&self) -> bool {
        self.context_tables
            .contains(&vigil_queries::first_seen::TABLE)
    }

    /// Whether the SQL names its window (`${window_start}`, `${window_end}`).
    pub fn reads_window(&self) -> bool {
        vigil_queries::placeholder::placeholders(&self.sql_template)
            .into_iter()
            .any(|(_, _, name)| crate::template::BUILTIN_PLACEHOLDERS.contains(&name))
    }

    /// Parses and checks a rule file's text (everything but the query plan,
    /// which [`RuleSet::check_plans`] verifies against the lake schemas).
    pub fn parse(path: &Path, text: &str) -> Result<Rule, RuleError> {
        Rule::parse_checked(path, text, TestsRequired::Yes)
    }

    /// Parses a rule translated from another format (a Sigma rule): its
    /// tests, from a sidecar file, are optional, since the translation itself
    /// is tested against the format's reference implementation.
    pub fn parse_translated(path: &Path, text: &str) -> Result<Rule, RuleError> {
        Rule::parse_checked(path, text, TestsRequired::WhenAny)
    }

    fn parse_checked(
        path: &Path,
        text: &str,
        tests_required: TestsRequired,
    ) -> Result<Rule, RuleError> {
        let source = RuleText { path, text };
        let file: RuleFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            source.error(line, e.message())
        })?;
        source.check_id(&file.id)?;
        let mode = source.mode(&file)?;
        let dedup_period = source
            .duration("period", Some(&file.dedup.period))?
            .unwrap_or_default();
        let sql_line = sql_start_line(text, file.sql.span().start);
        let sql_template = file.sql.into_inner();
        template::check_placeholders(&sql_template, &file.params)
            .map_err(|m| source.error(sql_line, m))?;
        let probe = template::render(
            &sql_template,
            &file.params,
            vigil_queries::TimeRange::new(0, 1),
        );
        let reads = guard::check(&probe)
            .map_err(|e| source.error(sql_line + e.line.saturating_sub(1), e.message))?;
        let reads_first_seen = reads.context.contains(&vigil_queries::first_seen::TABLE);
        if reads_first_seen && matches!(mode, Mode::Streaming) {
            return Err(source.error(
                sql_line,
                "the first_seen facts are kept by the scheduled pass: a rule reading them must be scheduled",
            ));
        }
        source.check_tests(&file.tests, tests_required)?;
        Ok(Rule {
            id: file.id,
            title: file.title,
            description: file.description,
            severity: file.severity,
            mode,
            dedup_columns: file.dedup.columns,
            dedup_period,
            params: file.params,
            tags: file.tags,
            runbook: file.runbook,
            references: file.references,
            sql_template,
            tables: reads.tables,
            context_tables: reads.context,
            tests: file.tests,
            path: path.to_path_buf(),
            sql_line,
        })
    }

    /// The SQL to run over `window`, with parameters and window bounds filled in.
    pub fn sql(&self, window: vigil_queries::TimeRange) -> String {
        template::render(&self.sql_template, &self.params, window)
    }

    pub fn schedule(&self) -> Option<Schedule> {
        match self.mode {
            Mode::Scheduled(s) => Some(s),
            Mode::Streaming => None,
        }
    }

    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            Mode::Streaming => "streaming",
            Mode::Scheduled(_) => "scheduled",
        }
    }

    fn error(&self, message: String) -> RuleError {
        RuleError {
            path: self.path.clone(),
            line: self.sql_line,
            message,
        }
    }
}

/// A rule file's text, so that each check's error points at its line.
struct RuleText<'t> {
    path: &'t Path,
    text: &'t str,
}

impl RuleText<'_> {
    fn error(&self, line: usize, message: impl Into<String>) -> RuleError {
        RuleError {
            path: self.path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// The error, at the first line that sets `key` (line 1 if none does).
    fn error_at(&self, key: &str, message: impl Into<String>) -> RuleError {
        let line = self
            .text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map_or(1, |i| i + 1);
        self.error(line, message)
    }

    fn check_id(&self, id: &str) -> Result<(), RuleError> {
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
        if id.is_empty() || !id.chars().all(valid) {
            return Err(self.error_at(
                "id",
                format!("rule id {id:?} must be lowercase letters, digits, '_', '.' or '-'"),
            ));
        }
        Ok(())
    }

    /// A duration setting; only `lag`, `lookback` and `min_history` may be 0.
    fn duration(&self, key: &str, value: Option<&str>) -> Result<Option<Duration>, RuleError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let d = humantime::parse_duration(value)
            .map_err(|e| self.error_at(key, format!("bad duration {key} = {value:?}: {e}")))?;
        if d.is_zero() && !["lag", "lookback", "min_history"].contains(&key) {
            return Err(self.error_at(key, format!("{key} must be more than 0")));
        }
        Ok(Some(d))
    }

    /// The rule's mode, with the schedule of a scheduled rule.
    fn mode(&self, file: &RuleFile) -> Result<Mode, RuleError> {
        let schedule_keys = [
            ("window", &file.window),
            ("every", &file.every),
            ("lag", &file.lag),
            ("lookback", &file.lookback),
            ("min_history", &file.min_history),
        ];
        match file.mode.as_str() {
            "streaming" => match schedule_keys.iter().find(|(_, value)| value.is_some()) {
                Some((key, _)) => Err(self.error_at(
                    key,
                    format!("a streaming rule has no {key}: it runs over each ingested batch"),
                )),
                None => Ok(Mode::Streaming),
            },
            "scheduled" => {
                let window = self
                    .duration("window", file.window.as_deref())?
                    .ok_or_else(|| self.error_at("mode", "a scheduled rule needs a window"))?;
                let every = self
                    .duration("every", file.every.as_deref())?
                    .unwrap_or(window);
                if every > window {
                    return Err(self.error_at(
                        "every",
                        "every must not exceed window, or events between windows would never be read",
                    ));
                }
                let lookback = self
                    .duration("lookback", file.lookback.as_deref())?
                    .unwrap_or_default();
                let min_history = self
                    .duration("min_history", file.min_history.as_deref())?
                    .unwrap_or_default();
                if min_history > lookback {
                    return Err(self.error_at(
                        "min_history",
                        "min_history must not exceed lookback: the rule sees no further back",
                    ));
                }
                Ok(Mode::Scheduled(Schedule {
                    window,
                    every,
                    lag: self
                        .duration("lag", file.lag.as_deref())?
                        .unwrap_or_default(),
                    lookback,
                    min_history,
                }))
            }
            other => Err(self.error_at(
                "mode",
                format!("mode must be \"streaming\" or \"scheduled\", not {other:?}"),
            )),
        }
    }

    /// A rule proves itself: a test that fires and one that stays quiet,
    /// each listing no more findings than it expects.
    fn check_tests(&self, tests: &[RuleTest], required: TestsRequired) -> Result<(), RuleError> {
        if tests.is_empty() && required == TestsRequired::Yes {
            return Err(self.error(
                1,
                "a rule needs [[tests]]: at least one that fires and one that stays quiet",
            ));
        }
        if !tests.is_empty()
            && (!tests.iter().any(|t| t.expect_count > 0)
                || !tests.iter().any(|t| t.expect_count == 0))
        {
            return Err(self.error_at(
                "[[tests]]",
                "a rule needs a positive test (expect_count > 0) and a negative one (expect_count = 0)",
            ));
        }
        if let Some(t) = tests.iter().find(|t| t.expect.len() > t.expect_count) {
            return Err(self.error_at(
                "[[tests]]",
                format!(
                    "test {:?} lists more expected findings than expect_count",
                    t.name
                ),
            ));
        }
        Ok(())
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line the SQL's first character is on (a multi-line string's opening
/// newline is not part of the value).
fn sql_start_line(text: &str, value_start: usize) -> usize {
    let rest = &text[value_start.min(text.len())..];
    let quotes = ["\"\"\"", "'''"];
    let skip = if quotes.iter().any(|q| rest.starts_with(q)) {
        let after = &rest[3..];
        if after.starts_with('\n') || after.starts_with("\r\n") {
            1
        } else {
            0
        }
    } else {
        0
    };
    line_of(text, value_start) + skip
}

/// `[rules]` of vigil.toml: the built-in packs to turn on and the values of
/// Sigma's `expand` placeholders (`%name%`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    #[serde(default)]
    pub packs: Vec<String>,
    #[serde(default)]
    pub placeholders: Placeholders,
}

impl RulesConfig {
    /// Reads the `[rules]` section of a vigil.toml (the other sections are
    /// their own readers' business); none is the default.
    pub fn from_config_text(text: &str) -> Result<RulesConfig, toml::de::Error> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            rules: RulesConfig,
        }
        toml::from_str::<File>(text).map(|f| f.rules)
    }

    /// Turns on `packs` too (from the command line or the environment),
    /// each once.
    pub fn add_packs<'a>(&mut self, packs: impl IntoIterator<Item = &'a str>) {
        for pack in packs {
            if !self.packs.iter().any(|p| p == pack) {
                self.packs.push(pack.to_string());
            }
        }
    }
}

/// Where the rules in force come from: the built-in rules, the packs turned
/// on, and the user's folders.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    pub dirs: Vec<PathBuf>,
    /// Built-in packs turned on (e.g. `sigma`).
    pub packs: Vec<String>,
    /// Values for Sigma's `expand` placeholders.
    pub placeholders: Placeholders,
}

impl RuleSources {
    pub fn load(&self) -> Result<RuleSet, DetectError> {
        let mut rules = RuleSet::builtin()?;
        for pack in &self.packs {
            rules.extend(RuleSet::pack(pack, &self.placeholders)?)?;
        }
        for dir in &self.dirs {
            rules.extend(RuleSet::load_dir_with(dir, &self.placeholders)?)?;
        }
        Ok(rules)
    }
}

/// The pack a rule came from (`None` for Vigil's own and the user's rules).
pub fn pack_of(rule: &Rule) -> Option<String> {
    let path = rule.path.to_string_lossy();
    let rest = path.strip_prefix("builtin:packs/")?;
    rest.split('/').next().map(str::to_string)
}

/// The rules in force: the built-in ones plus any user folders.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// The rules compiled into Vigil (from `detect/rules/`).
    pub fn builtin() -> Result<RuleSet, DetectError> {
        RuleSet::from_results(
            crate::builtin::FILES
                .iter()
                .map(|(path, text)| {
                    Rule::parse(Path::new(&format!("builtin:{path}")), text).map(|r| vec![r])
                })
                .collect(),
        )
    }

    /// The rules of a built-in pack (`detect/packs/<name>/`).
    pub fn pack(name: &str, placeholders: &Placeholders) -> Result<RuleSet, DetectError> {
        let files: Vec<_> = crate::builtin::PACK_FILES
            .iter()
            .filter(|(pack, _, _)| *pack == name)
            .collect();
        if files.is_empty() {
            return Err(DetectError::Rule(RuleError {
                path: PathBuf::from(format!("pack:{name}")),
                line: 1,
                message: format!(
                    "no rule pack named {name:?} (built in: {})",
                    crate::builtin::pack_names().join(", ")
                ),
            }));
        }
        let sigma: Vec<SigmaSource> = files
            .iter()
            .map(|(pack, file, text)| SigmaSource {
                path: PathBuf::from(format!("builtin:packs/{pack}/{file}")),
                text: text.to_string(),
                tests: None,
            })
            .collect();
        RuleSet::from_results(parse_sigma_files(&sigma, placeholders))
    }

    /// Every rule file under `dir`, recursively: Vigil rules (`*.toml`) and
    /// Sigma rules (`*.yml`, `*.yaml`, tests in a `*.tests.toml` sidecar).
    pub fn load_dir(dir: &Path) -> Result<RuleSet, DetectError> {
        RuleSet::load_dir_with(dir, &Placeholders::new())
    }

    /// [`RuleSet::load_dir`], with values for Sigma's `expand` placeholders.
    pub fn load_dir_with(dir: &Path, placeholders: &Placeholders) -> Result<RuleSet, DetectError> {
        let mut files = Vec::new();
        collect_toml(dir, &mut files)?;
        files.sort();
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| DetectError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let mut results = Vec::new();
        let mut sigma = Vec::new();
        for path in files {
            let text = read(&path)?;
            if is_sigma_file(&path) {
                let sidecar = path.with_extension("tests.toml");
                let tests = sidecar.is_file().then(|| read(&sidecar)).transpose()?;
                sigma.push(SigmaSource { path, text, tests });
            } else {
                results.push(Rule::parse(&path, &text).map(|r| vec![r]));
            }
        }
        // A folder's Sigma files compile together: a correlation may read
        // the rules of another file.
        results.extend(parse_sigma_files(&sigma, placeholders));
        RuleSet::from_results(results)
    }

    /// The rules of every file that loaded, or the errors of all that did not.
    fn from_results(results: Vec<Result<Vec<Rule>, RuleError>>) -> Result<RuleSet, DetectError> {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(r) => rules.extend(r),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            let set = RuleSet { rules };
            set.check_unique()?;
            Ok(set)
        } else {
            Err(DetectError::Rules(errors))
        }
    }

    /// Adds `other`'s rules; a rule id defined twice is an error.
    pub fn extend(&mut self, other: RuleSet) -> Result<(), DetectError> {
        self.rules.extend(other.rules);
        self.check_unique()
    }

    fn check_unique(&self) -> Result<(), DetectError> {
        let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
        let mut errors = Vec::new();
        for r in &self.rules {
            if let Some(first) = seen.insert(&r.id, &r.path) {
                errors.push(RuleError {
                    path: r.path.clone(),
                    line: 1,
                    message: format!("rule id {} is already defined in {}", r.id, first.display()),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DetectError::Rules(errors))
        }
    }

    /// Keeps only the rules whose ids are listed (all when `ids` is empty).
    pub fn select(&mut self, ids: &[String]) -> Result<(), DetectError> {
        if ids.is_empty() {
            return Ok(());
        }
        let unknown: Vec<&String> = ids
            .iter()
            .filter(|id| !self.rules.iter().any(|r| &r.id == *id))
            .collect();
        if let Some(id) = unknown.first() {
            return Err(DetectError::Rule(RuleError {
                path: PathBuf::from("--rule"),
                line: 1,
                message: format!("no rule has the id {id}"),
            }));
        }
        self.rules.retain(|r| ids.contains(&r.id));
        Ok(())
    }

    /// Plans every rule's SQL against the lake schemas: unknown tables or
    /// columns, type errors and result columns the engine needs are caught here.
    pub async fn check_plans(&self) -> Result<(), DetectError> {
        let ctx = crate::tables::Tables::default().context(None)?;
        let mut errors = Vec::new();
        for rule in &self.rules {
            if let Err(e) = check_plan(&ctx, rule).await {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DetectError::Rules(errors))
        }
    }
}

async fn check_plan(
    ctx: &datafusion::prelude::SessionContext,
    rule: &Rule,
) -> Result<(), RuleError> {
    let sql = rule.sql(vigil_queries::TimeRange::new(0, 1));
    let df = ctx
        .sql_with_options(&sql, guard::sql_options())
        .await
        .map_err(|e| {
            rule.error(format!(
                "the SQL does not plan: {}",
                first_line(&e.to_string())
            ))
        })?;
    let columns: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let has = |c: &str| columns.iter().any(|n| n == c);
    let event_rows = has("event_time");
    let aggregate = has("event_count") && has("first_seen") && has("last_seen");
    if !event_rows && !aggregate {
        return Err(rule.error(
            "the SQL must return either event rows (an event_time column) or findings \
             (event_count, first_seen and last_seen columns)"
                .into(),
        ));
    }
    // A finding without the events behind it gives the analyst nothing to
    // open: event rows carry theirs (`raw`), finding rows must name them.
    if aggregate && !event_rows && !has("sample_ids") && !has("samples") {
        return Err(rule.error(
            "a rule that returns findings must return the events behind them: a `sample_ids` \
             list of event ids (e.g. array_agg(event_id ORDER BY event_time, event_id)) or `samples`"
                .into(),
        ));
    }
    if event_rows && !aggregate && !has("raw") {
        return Err(rule.error(
            "a rule that returns event rows must return `raw`, the record each finding keeps as a sample"
                .into(),
        ));
    }
    for c in &rule.dedup_columns {
        if !has(c) {
            return Err(rule.error(format!(
                "dedup column {c} is not in the SQL's result ({})",
                columns.join(", ")
            )));
        }
    }
    for c in template::title_columns(&rule.title) {
        if !has(&c) && !template::FINDING_PLACEHOLDERS.contains(&c.as_str()) {
            return Err(RuleError {
                path: rule.path.clone(),
                line: 1,
                message: format!("the title uses {{{c}}}, which is not in the SQL's result"),
            });
        }
    }
    Ok(())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// A Vigil rule (`*.toml`, not a Sigma rule's `*.tests.toml` sidecar) or a
/// Sigma rule (`*.yml`, `*.yaml`).
fn is_rule_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    (name.ends_with(".toml") && !name.ends_with(".tests.toml")) || is_sigma_file(path)
}

fn is_sigma_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DetectError> {
    let read = |path: &Path| DetectError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other("not a file or folder"),
    };
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(read(dir));
    }
    let entries = std::fs::read_dir(dir).map_err(|source| DetectError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| DetectError::Read {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if is_rule_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid scheduled rule; each case below breaks one thing.
    const VALID: &str = r#"id = "a_rule"
title = "t"
description = "d"
severity = "low"
mode = "scheduled"
window = "5m"
runbook = "r"
sql = '''
SELECT event_time, src_ip FROM cloudtrail
WHERE event_time >= ${window_start} AND event_time < ${window_end}
'''

[[tests]]
name = "fires"
format = "cloudtrail"
records = []
expect_count = 1

[[tests]]
name = "quiet"
format = "cloudtrail"
records = []
expect_count = 0
"#;

    #[test]
    fn each_check_of_a_rule_file_names_its_line() {
        let parse = |text: &str| Rule::parse(Path::new("r.toml"), text);
        let rule = parse(VALID).unwrap();
        assert_eq!(rule.schedule().unwrap().every, Duration::from_secs(300));
        let cases = [
            ("id = \"a_rule\"", "id = \"A Rule\"", 1, "must be lowercase"),
            (
                "window = \"5m\"",
                "window = \"0s\"",
                6,
                "window must be more than 0",
            ),
            (
                "window = \"5m\"",
                "window = \"soon\"",
                6,
                "bad duration window",
            ),
            (
                "window = \"5m\"",
                "every = \"10m\"\nwindow = \"5m\"",
                6,
                "every must not exceed window",
            ),
            ("window = \"5m\"", "runbook_url = \"\"", 6, "unknown field"),
            (
                "mode = \"scheduled\"",
                "mode = \"streaming\"",
                6,
                "a streaming rule has no window",
            ),
            (
                "mode = \"scheduled\"",
                "mode = \"hourly\"",
                5,
                "mode must be",
            ),
            (
                "window = \"5m\"",
                "window = \"5m\"\nlookback = \"1h\"\nmin_history = \"2h\"",
                8,
                "min_history must not exceed lookback",
            ),
            (
                "expect_count = 0",
                "expect_count = 2",
                13,
                "a positive test",
            ),
            (
                "expect_count = 1",
                "expect_count = 1\nexpect = [{a = \"1\"}, {a = \"2\"}]",
                13,
                "lists more expected findings",
            ),
        ];
        for (from, to, line, message) in cases {
            let text = VALID.replacen(from, to, 1);
            assert_ne!(text, VALID, "{from}");
            let Err(e) = parse(&text) else {
                panic!("accepted with {to:?}")
            };
            assert!(e.message.contains(message), "{to:?}: {e:?}");
            assert_eq!(e.line, line, "{to:?}: {e:?}");
        }
        let no_window = VALID.replacen("window = \"5m\"\n", "", 1);
        let e = parse(&no_window).unwrap_err();
        assert!(e.message.contains("needs a window"), "{e:?}");
        assert_eq!(e.line, 5);
        let untested = &VALID[..VALID.find("[[tests]]").unwrap()];
        let e = parse(untested).unwrap_err();
        assert!(e.message.contains("needs [[tests]]"), "{e:?}");
        assert!(Rule::parse_translated(Path::new("r.toml"), untested).is_ok());
    }

    #[test]
    fn sql_errors_point_at_the_line_in_the_file() {
        let text = std::fs::read_to_string(vigil_test_support::in_checkout(
            "detect/rules/cloudtrail/iam_user_created.toml",
        ))
        .unwrap();
        let rule = Rule::parse(Path::new("x.toml"), &text).unwrap();
        let first_sql_line = text
            .lines()
            .position(|l| l.starts_with("sql = '''"))
            .unwrap()
            + 2;
        assert_eq!(rule.sql_line, first_sql_line);
        let bad = text.replace(
            "  AND error_code IS NULL\n",
            "  AND error_code IS NULL;\nDELETE FROM cloudtrail\n",
        );
        let err = Rule::parse(Path::new("x.toml"), &bad).unwrap_err();
        let delete_line = bad.lines().position(|l| l.starts_with("DELETE")).unwrap() + 1;
        assert_eq!(err.line, delete_line, "{err}");
    }
}

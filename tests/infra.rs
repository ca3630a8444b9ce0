//! `infra/template.yaml` stays in step with the code: its Glue tables have
//! exactly the lake's columns, in order, with matching types; each function
//! runs a handler the binary knows; and no role grants a wildcard action.
//! (cfn-lint and checkov check the rest: scripts/test.sh runs them.)

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use vigil_ingest::schema::schema;
use vigil_ingest::Table;
use vigil_test_support::in_checkout;

fn template() -> String {
    std::fs::read_to_string(in_checkout("infra/template.yaml")).unwrap()
}

/// Athena's type for a lake column.
fn glue_type(t: &DataType) -> &'static str {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string",
        DataType::Int64 => "bigint",
        DataType::Int32 => "int",
        DataType::Float64 => "double",
        DataType::Boolean => "boolean",
        DataType::Binary | DataType::LargeBinary => "binary",
        DataType::Timestamp(TimeUnit::Millisecond, _) => "timestamp",
        DataType::List(item) if item.data_type() == &DataType::Utf8 => "array<string>",
        other => panic!("no Glue type for {other}"),
    }
}

/// The `{Name: c, Type: t}` lines of the Glue table named `table`.
fn glue_columns(template: &str, table: &str) -> Vec<(String, String)> {
    let start = template
        .find(&format!("        Name: {table}\n"))
        .unwrap_or_else(|| panic!("no Glue table {table}"));
    let rest = &template[start..];
    let columns = &rest[rest.find("          Columns:\n").unwrap()..];
    columns
        .lines()
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- {Name:"))
        .map(|l| {
            let inner = l.trim().trim_start_matches("- {").trim_end_matches('}');
            let (name, ty) = inner.split_once(", ").unwrap();
            (
                name.trim_start_matches("Name: ").to_string(),
                ty.trim_start_matches("Type: ").to_string(),
            )
        })
        .collect()
}

#[test]
fn glue_tables_match_the_lake_schemas() {
    let template = template();
    for table in Table::ALL {
        let expected: Vec<(String, String)> = schema(table)
            .fields()
            .iter()
            .map(|f| (f.name().clone(), glue_type(f.data_type()).to_string()))
            .collect();
        assert_eq!(
            glue_columns(&template, table.name()),
            expected,
            "Glue table {}",
            table.name()
        );
        assert!(
            template.contains(&format!(
                "/lake/{}/date=${{!date}}/hour=${{!hour}}/",
                table.name()
            )),
            "{}: partition projection template",
            table.name()
        );
    }
}

#[test]
fn every_function_runs_a_known_handler_and_roles_name_their_actions() {
    let template = template();
    let handlers: Vec<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Handler: "))
        .collect();
    assert_eq!(
        handlers.len(),
        vigil_aws::Handler::ALL.len(),
        "{handlers:?}"
    );
    for h in handlers {
        h.parse::<vigil_aws::Handler>()
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Roles start at `Type: AWS::IAM::Role`; the key policy's administrator
    // statement is the one `kms:*`, and it is not in a role.
    let mut roles = 0;
    for role in template.split("Type: AWS::IAM::Role").skip(1) {
        roles += 1;
        // The role ends where the next resource (two-space indent) starts.
        let body = role
            .lines()
            .skip(1)
            .take_while(|l| !(l.len() > 2 && l.starts_with("  ") && !l.starts_with("   ")));
        // Actions are written inline (`Action: x` or `Action: [x, y]`).
        for line in body.filter(|l| l.contains("Action:")) {
            assert!(!line.contains('*'), "wildcard action in a role: {line}");
        }
    }
    assert_eq!(roles, 5);
}

/// The resource a top-level template key starts (`  Name:`) up to the next one.
fn resource<'a>(template: &'a str, name: &str) -> &'a str {
    let start = template
        .find(&format!("\n  {name}:\n"))
        .unwrap_or_else(|| panic!("no resource {name}"));
    let rest = &template[start + 1..];
    let end = rest
        .lines()
        .skip(1)
        .find(|l| l.len() > 2 && l.starts_with("  ") && !l.starts_with("   "))
        .and_then(|next| rest.find(&format!("\n{next}\n")))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn functions_that_use_context_are_told_where_it_is_and_may_read_only_that() {
    let template = template();
    let lines: Vec<&str> = template.lines().collect();
    let functions: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[1].trim() == "Type: AWS::Serverless::Function")
        .filter_map(|w| w[0].strip_prefix("  ")?.strip_suffix(':'))
        .collect();
    assert_eq!(functions.len(), vigil_aws::Handler::ALL.len());
    for function in functions {
        let body = resource(&template, function);
        let handler: vigil_aws::Handler = body
            .lines()
            .find_map(|l| l.trim().strip_prefix("Handler: "))
            .unwrap()
            .parse()
            .unwrap();
        let role = body
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Role: !GetAtt ")
                    .and_then(|r| r.strip_suffix(".Arn"))
            })
            .unwrap();
        let role = resource(&template, role);
        let told = [
            "VIGIL_INTEL: !Ref IntelUrls",
            "VIGIL_GEOIP: !Ref GeoIpUrls",
            "VIGIL_DIRECTORY: !Ref DirectoryUrls",
        ];
        // Read from the stack's own bucket, under context/ only.
        let may_read = role.contains("Sid: ContextRead")
            && role.contains(r#"Resource: !Sub "${LakeBucket.Arn}/context/*""#);
        if handler.uses_context() {
            for variable in told {
                assert!(body.contains(variable), "{function}: {variable}");
            }
            assert!(may_read, "{function} may not read the context");
        } else {
            assert!(!body.contains("VIGIL_INTEL"), "{function}");
            assert!(!may_read, "{function} may read context it does not use");
        }
    }
}

//! The context's SQL functions and `intel` table in a session: answers from
//! the context in force, nulls without one, and a clear error for a kind
//! that does not exist. One test: the context is process-wide.

use arrow::array::{Array, AsArray};
use datafusion::prelude::SessionContext;

async fn rows(ctx: &SessionContext, sql: &str) -> Vec<Vec<Option<String>>> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        let text =
                            arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).unwrap();
                        let text = text.as_string::<i32>();
                        (!text.is_null(i)).then(|| text.value(i).to_string())
                    })
                    .collect(),
            );
        }
    }
    out
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[tokio::test]
async fn functions_and_the_intel_table_read_the_context_in_force() {
    // Nothing configured: every function answers null, the table is empty.
    let ctx = SessionContext::new();
    vigil_queries::register_functions(&ctx);
    let nothing = rows(
        &ctx,
        "SELECT intel_match('ip', '203.0.113.66') IS NULL, geo_country('8.8.8.8'), geo_asn('8.8.8.8'), \
         account_name('111122223333'), principal_owner('arn:aws:iam::111122223333:user/bob'), \
         (SELECT count(*) FROM intel)",
    )
    .await;
    assert_eq!(nothing, [[s("true"), None, None, None, None, s("0")]]);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.csv"),
        "indicator,kind,confidence,tags\n203.0.113.0/24,cidr,70,hosting\n203.0.113.66,ip,90,\"stuffing,botnet\"\nevil.example,domain,50,\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("accounts.csv"),
        "account_id,name,environment\n111122223333,acme-prod,prod\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("owners.csv"),
        "principal,owner,team\nbob,bob@acme.example,platform\n",
    )
    .unwrap();
    let config = vigil_context::ContextConfig::from_config_text(
        "[context]\nintel = [{ path = \"bad.csv\", name = \"feed\" }]\ndirectory = [\"accounts.csv\", \"owners.csv\"]\n",
        dir.path(),
    )
    .unwrap();
    let loaded = config.load().await.unwrap();
    let version = loaded.context.intel.version().to_string();
    vigil_context::install(loaded.context);

    let ctx = SessionContext::new();
    vigil_queries::register_functions(&ctx);
    let hits = rows(
        &ctx,
        "SELECT v, intel_match('ip', v)['indicator'], intel_match('ip', v)['source'], \
                intel_match('ip', v)['confidence'], intel_match('ip', v)['tags'], intel_match('ip', v)['version'] \
         FROM (VALUES ('203.0.113.66'), ('203.0.113.7'), ('198.51.100.1'), (NULL)) AS t(v) ORDER BY v",
    )
    .await;
    assert_eq!(
        hits,
        [
            vec![s("198.51.100.1"), None, None, None, None, None],
            vec![
                s("203.0.113.66"),
                s("203.0.113.66"),
                s("feed"),
                s("90"),
                s("stuffing,botnet"),
                s(&version)
            ],
            vec![
                s("203.0.113.7"),
                s("203.0.113.0/24"),
                s("feed"),
                s("70"),
                s("hosting"),
                s(&version)
            ],
            vec![None, None, None, None, None, None],
        ]
    );
    let others = rows(
        &ctx,
        "SELECT intel_match('domain', 'cdn.evil.example')['indicator'], \
                intel_match('url', 'https://cdn.evil.example/x')['kind'], \
                ua_family('aws-cli/2.15.0 Python/3.11'), account_name('111122223333'), \
                account_environment('111122223333'), principal_owner('arn:aws:iam::111122223333:user/bob'), \
                principal_team('arn:aws:iam::111122223333:user/bob'), geo_country('203.0.113.66')",
    )
    .await;
    assert_eq!(
        others,
        [[
            s("evil.example"),
            s("domain"),
            s("aws-cli"),
            s("acme-prod"),
            s("prod"),
            s("bob@acme.example"),
            s("platform"),
            None
        ]]
    );
    let table = rows(
        &ctx,
        "SELECT indicator, kind, source FROM intel ORDER BY indicator",
    )
    .await;
    assert_eq!(
        table,
        [
            [s("203.0.113.0/24"), s("cidr"), s("feed")],
            [s("203.0.113.66"), s("ip"), s("feed")],
            [s("evil.example"), s("domain"), s("feed")],
        ]
    );
    let err = ctx
        .sql("SELECT intel_match('hash', 'x')")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown kind \"hash\""), "{err}");
    vigil_context::replace(None);
}

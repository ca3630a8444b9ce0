//! A hunting session's defaults give way to the user's `DATAFUSION_*` variables.
//! (A test binary of its own: it sets a variable of the process.)

use vigil_ingest::Lake;
use vigil_queries::hunting_session;

#[tokio::test]
async fn a_datafusion_variable_overrides_a_hunting_default() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let options = |ctx: &datafusion::prelude::SessionContext| {
        let parquet = ctx.state().config().options().execution.parquet.clone();
        (parquet.pushdown_filters, parquet.enable_page_index)
    };
    let ctx = hunting_session(&lake, None).await.unwrap();
    assert_eq!(options(&ctx), (true, false));
    std::env::set_var("DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS", "false");
    let ctx = hunting_session(&lake, None).await.unwrap();
    // The variable wins; the default it does not name still applies.
    assert_eq!(options(&ctx), (false, false));
}

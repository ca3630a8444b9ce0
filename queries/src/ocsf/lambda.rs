//! Lambda logs as OCSF Application Lifecycle: the function is the
//! application; an invocation's START, END and REPORT lines are its starts
//! and stops (REPORT's metrics in `duration` and `unmapped`), a timeout or
//! runtime error a failed stop, an application log line an Other activity
//! with its message and level. OCSF 1.1 has no class for an application's
//! own log lines; Application Lifecycle keeps them with the invocation they
//! belong to (`metadata.correlation_uid` = the invocation's request id).

use super::{metadata, unmapped, CLOUD};

/// Lambda's fields with no OCSF home, by their REPORT / platform names.
const UNMAPPED: [(&str, &str); 10] = [
    ("recordType", "record_type"),
    ("logFormat", "log_format"),
    ("billedDurationMs", "billed_duration_ms"),
    ("memorySizeMB", "memory_size_mb"),
    ("maxMemoryUsedMB", "max_memory_used_mb"),
    ("initDurationMs", "init_duration_ms"),
    ("status", "status"),
    ("errorType", "error_type"),
    ("xrayTraceId", "xray_trace_id"),
    ("runtimeVersion", "runtime_version"),
];

pub(super) fn select() -> String {
    let failed = "(status IN ('timeout', 'error', 'failure') OR record_type IN ('timeout', 'runtime_error'))";
    let metadata = metadata(
        &["cloud"],
        "AWS Lambda",
        "CAST(NULL AS VARCHAR)",
        "'uid', event_id, 'log_name', source_ref, 'log_level', level, 'correlation_uid', request_id",
    );
    format!(
        "SELECT CASE WHEN record_type IN ('start', 'init_start', 'platform.start', 'platform.initStart') THEN 3 \
                     WHEN record_type IN ('end', 'report', 'timeout', 'runtime_error', 'platform.report', 'platform.runtimeDone') THEN 4 \
                     ELSE 99 END AS activity_id, \
           CAST(event_time AS BIGINT) AS time, \
           CASE WHEN upper(level) IN ('FATAL', 'CRITICAL') THEN 5 \
                WHEN upper(level) = 'ERROR' OR {failed} THEN 3 \
                WHEN upper(level) IN ('WARN', 'WARNING') THEN 2 ELSE 1 END AS severity_id, \
           CASE WHEN upper(level) IN ('FATAL', 'CRITICAL') THEN 'Critical' \
                WHEN upper(level) = 'ERROR' OR {failed} THEN 'Medium' \
                WHEN upper(level) IN ('WARN', 'WARNING') THEN 'Low' ELSE 'Informational' END AS severity, \
           CASE WHEN {failed} THEN 2 WHEN status = 'success' THEN 1 ELSE 0 END AS status_id, \
           CASE WHEN {failed} THEN 'Failure' WHEN status = 'success' THEN 'Success' ELSE 'Unknown' END AS status, \
           error_type AS status_code, \
           {metadata}, {CLOUD}, \
           named_struct('name', function_name, 'vendor_name', 'AWS Lambda', 'version', function_version, \
             'uid', CASE WHEN account_id IS NOT NULL AND region IS NOT NULL \
               THEN concat('arn:aws:lambda:', region, ':', account_id, ':function:', function_name) END) AS app, \
           message, \
           CAST(duration_ms AS BIGINT) AS duration, \
           {unmapped}, raw AS raw_data \
         FROM lambda WHERE function_name IS NOT NULL",
        unmapped = unmapped(&UNMAPPED),
    )
}

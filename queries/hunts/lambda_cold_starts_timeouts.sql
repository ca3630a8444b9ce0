-- title: Lambda cold starts, timeouts and errors by function
-- description: Per function: invocations, cold starts, timeouts, errors, and duration percentiles.
SELECT function_name,
       count(CASE WHEN record_type IN ('report', 'platform.report') THEN 1 END) AS invocations,
       count(init_duration_ms) AS cold_starts,
       count(DISTINCT CASE WHEN record_type = 'timeout' OR status = 'timeout' THEN coalesce(request_id, event_id) END) AS timeouts,
       count(CASE WHEN level IN ('ERROR', 'FATAL', 'CRITICAL') OR record_type = 'runtime_error' THEN 1 END) AS errors,
       round(approx_percentile_cont(duration_ms, 0.5), 1) AS p50_ms,
       round(approx_percentile_cont(duration_ms, 0.95), 1) AS p95_ms,
       max(duration_ms) AS max_ms,
       max(max_memory_used_mb) AS max_memory_mb
FROM lambda
GROUP BY function_name
ORDER BY timeouts DESC, errors DESC

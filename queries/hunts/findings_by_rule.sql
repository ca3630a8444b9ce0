-- title: Findings by rule over time
-- description: New findings per rule and hour, with the latest version of each finding.
SELECT date_trunc('hour', event_time) AS hour, rule_id, severity,
       count(DISTINCT finding_id) AS findings,
       sum(event_count) AS events
FROM (
  SELECT *, row_number() OVER (PARTITION BY finding_id ORDER BY detected_at DESC, event_count DESC) AS version
  FROM findings
) latest
WHERE version = 1
GROUP BY 1, 2, 3
ORDER BY hour, findings DESC

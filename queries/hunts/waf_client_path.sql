-- title: One client's path through WAF, API Gateway and Lambda
-- description: Every request of one address as the web ACL judged it, joined on the request id to what API Gateway answered, and on the integration's request id (when the access log format logs `$context.integration.requestId`) to the Lambda invocation it ran; requests API Gateway served with no WAF record show the stages the web ACL does not cover.
-- param: src_ip = 203.0.113.66 : the client address
WITH judged AS (
  SELECT event_time, request_id, action AS waf_action,
         coalesce(terminating_group_rule_id, terminating_rule_id) AS waf_rule,
         http_method || ' ' || uri AS request, user_agent, labels
  FROM waf
  WHERE src_ip = ${src_ip}
),
served AS (
  SELECT event_time, coalesce(request_id, event_id) AS request_id, integration_request_id, stage, status,
         coalesce(route_key, http_method || ' ' || resource_path) AS route, response_latency_ms
  FROM apigateway
  WHERE src_ip = ${src_ip}
),
invocations AS (
  SELECT request_id, max(status) AS lambda_status, max(duration_ms) AS lambda_duration_ms,
         max(error_type) AS lambda_error
  FROM lambda
  WHERE request_id IN (SELECT integration_request_id FROM served)
  GROUP BY request_id
)
SELECT coalesce(j.event_time, s.event_time) AS event_time,
       coalesce(j.request_id, s.request_id) AS request_id,
       j.waf_action, j.waf_rule, coalesce(j.request, s.route) AS request,
       s.stage, s.status, s.response_latency_ms,
       i.lambda_status, i.lambda_duration_ms, i.lambda_error,
       j.user_agent, array_to_string(j.labels, ', ') AS labels
FROM judged j
FULL OUTER JOIN served s ON j.request_id = s.request_id
LEFT JOIN invocations i ON i.request_id = s.integration_request_id
ORDER BY event_time, request_id

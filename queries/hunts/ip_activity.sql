-- title: Everything an IP did
-- description: Every event from one source address across API Gateway, CloudTrail and Lambda, in time order.
-- param: ip = 203.0.113.66 : the source address
SELECT event_time, source, action, outcome, actor, account_id, source_ref
FROM events
WHERE src_ip = ${ip}
ORDER BY event_time

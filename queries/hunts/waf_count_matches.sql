-- title: COUNT-mode matches by rule
-- description: Requests that rules in COUNT mode matched and let through (rules under test, or groups overridden to count), per web ACL and rule, with how many clients and routes: what each would block if enforced.
SELECT web_acl_name AS web_acl,
       rule_id,
       count(DISTINCT event_id) AS matches,
       count(DISTINCT src_ip) AS clients,
       count(DISTINCT uri) AS routes,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen
FROM (SELECT web_acl_name, event_id, src_ip, uri, event_time,
             unnest(non_terminating_rule_ids) AS rule_id
      FROM waf)
GROUP BY 1, 2
ORDER BY matches DESC, web_acl, rule_id

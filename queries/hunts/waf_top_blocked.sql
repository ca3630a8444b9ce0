-- title: Top blocked clients and rules
-- description: Who the web ACLs blocked most, and by which rule (the managed group's rule when a group decided), with the routes and user agents tried.
-- param: src_ip = % : a client address to look at (LIKE pattern; % for all)
SELECT src_ip,
       coalesce(terminating_rule_group_id || ' / ' || terminating_group_rule_id, terminating_rule_id) AS rule,
       count(*) AS blocked,
       count(DISTINCT uri) AS routes,
       count(DISTINCT user_agent) AS user_agents,
       min(country) AS country,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen
FROM waf
WHERE outcome = 'blocked' AND src_ip LIKE ${src_ip}
GROUP BY 1, 2
ORDER BY blocked DESC, src_ip, rule
LIMIT 100

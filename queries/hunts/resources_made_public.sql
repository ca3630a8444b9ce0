-- title: Resources made public
-- description: Buckets, Lambda functions, security groups and snapshots opened to everyone.
SELECT event_time, event_name,
       coalesce(json_str(request_parameters, 'bucketName'), json_str(request_parameters, 'functionName'),
                json_str(request_parameters, 'groupId'), json_str(request_parameters, 'snapshotId'),
                json_str(request_parameters, 'imageId')) AS resource,
       coalesce(user_identity_user_name, actor) AS who, src_ip
FROM cloudtrail
-- The event names first: a cheap filter, so that the error code and the JSON
-- text below are read only for the few rows it leaves.
WHERE (event_name IN ('PutBucketPolicy', 'PutBucketAcl', 'AuthorizeSecurityGroupIngress',
                      'ModifySnapshotAttribute', 'ModifyImageAttribute')
       OR event_name LIKE 'AddPermission%' OR event_name LIKE 'CreateFunctionUrlConfig%')
  AND error_code IS NULL
  AND ((event_name IN ('PutBucketPolicy', 'PutBucketAcl')
        AND (regexp_like(request_parameters, '"Principal"\s*:\s*(\{\s*"AWS"\s*:\s*)?"\*"') OR request_parameters LIKE '%AllUsers%'))
    OR (event_name LIKE 'AddPermission%' AND json_str(request_parameters, 'principal') = '*')
    OR (event_name LIKE 'CreateFunctionUrlConfig%' AND json_str(request_parameters, 'authType') = 'NONE')
    OR (event_name = 'AuthorizeSecurityGroupIngress' AND regexp_like(request_parameters, '"cidrIp(v6)?"\s*:\s*"[^"]*/0"'))
    OR (event_name IN ('ModifySnapshotAttribute', 'ModifyImageAttribute') AND request_parameters LIKE '%"group"%"all"%'))
ORDER BY event_time

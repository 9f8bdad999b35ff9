-- The yardstick for `xinyi match`: three seed rules written by hand over the generated profiles, NULL = unknown.
--   004_c1031d100ed34c3a-r005  庄河: 被列入失信联合惩戒对象名单 (3 years back, credit repair lifts it)
--   001_9ae7228be791c7b7-r006  陈巴尔虎旗: 一年内发生较大生产安全责任事故
--   002_eeefe34df8205f46-r004  淮南: 诚信典型 (credit_model_enterprise)
-- The places are those bench/match_speed.py generates; {profiles} and {as_of} are filled in by it.
WITH p AS (SELECT * FROM read_parquet('{profiles}')),
ev AS (SELECT credit_code, unnest(events) AS x FROM p WHERE events IS NOT NULL),
repaired AS (SELECT credit_code, max(x.date) AS day FROM ev
             WHERE x.type = 'credit_repaired' AND x.date <= DATE '{as_of}' GROUP BY credit_code),
counts AS (
  SELECT ev.credit_code,
         count(*) FILTER (WHERE x.type = 'blacklisted' AND x.date BETWEEN DATE '{as_of}' - INTERVAL 3 YEAR AND DATE '{as_of}'
                          AND (repaired.day IS NULL OR x.date > repaired.day)) AS blacklisted,
         count(*) FILTER (WHERE x.type = 'accident' AND x.severity = '较大' AND x.responsible
                          AND x.date BETWEEN DATE '{as_of}' - INTERVAL 1 YEAR AND DATE '{as_of}') AS larger_accident
  FROM ev LEFT JOIN repaired USING (credit_code) GROUP BY ev.credit_code),
verdicts AS (
  SELECT p.credit_code,
         CASE WHEN p.region = '辽宁省大连市庄河市' THEN TRUE WHEN p.region = '辽宁省大连市' THEN NULL ELSE FALSE END
           AND CASE WHEN p.events IS NULL THEN NULL ELSE coalesce(c.blacklisted, 0) > 0 END AS zhuanghe,
         (p.region = '内蒙古自治区呼伦贝尔市陈巴尔虎旗')
           AND CASE WHEN p.events IS NULL THEN NULL ELSE coalesce(c.larger_accident, 0) > 0 END AS chenbaerhu,
         (p.region IN ('安徽省淮南市', '安徽省淮南市潘集区')) AND p.credit_model_enterprise AS huainan
  FROM p LEFT JOIN counts c USING (credit_code))
SELECT credit_code, rule_id,
       CASE WHEN v THEN 'applies' WHEN NOT v THEN 'does_not_apply' ELSE 'undetermined' END AS status
FROM (SELECT credit_code, '004_c1031d100ed34c3a-r005' AS rule_id, zhuanghe AS v FROM verdicts
      UNION ALL SELECT credit_code, '001_9ae7228be791c7b7-r006', chenbaerhu FROM verdicts
      UNION ALL SELECT credit_code, '002_eeefe34df8205f46-r004', huainan FROM verdicts)

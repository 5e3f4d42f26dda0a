-- The trips as the scheduler and executors see them (the pod templates
-- mount them at /data). Run before fare_stats.sql:
--   ballista k8s run --name nyctaxi -f create_trips.sql -f ../fare_stats.sql
CREATE EXTERNAL TABLE trips STORED AS PARQUET LOCATION '/data/nyctaxi/';

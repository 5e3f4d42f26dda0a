-- NYC taxi fare statistics by passenger count and month of pickup.
--
-- Runs on the `trips` table of `ballista gen nyctaxi` output (TLC yellow trip
-- record columns); the caller (`make run`) registers it first with
-- CREATE EXTERNAL TABLE trips STORED AS PARQUET LOCATION '<dir>'.
SELECT
    passenger_count,
    CAST(date_part('month', tpep_pickup_datetime) AS INT) AS pickup_month,
    COUNT(*) AS trips,
    ROUND(AVG(fare_amount), 2) AS avg_fare,
    MIN(fare_amount) AS min_fare,
    MAX(fare_amount) AS max_fare,
    ROUND(AVG(trip_distance), 2) AS avg_distance,
    ROUND(SUM(total_amount), 2) AS total_amount
FROM trips
GROUP BY passenger_count, pickup_month
ORDER BY passenger_count NULLS LAST, pickup_month;

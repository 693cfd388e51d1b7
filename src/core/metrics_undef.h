/*
 * metrics_undef.h: ends an expansion of core/metrics.def or ops/metrics.def
 * by undefining every row macro (the two tables share their names), so
 * that the includer can define them again for the other table.  No include
 * guard: included after each expansion.
 */
#undef COUNTER
#undef GAUGE
#undef SERIES
#undef COUNTER_BY
#undef GAUGE_BY
#undef GAUGE_BY_WORKER
#undef HISTOGRAM
#undef HISTOGRAM_BY_WORKER
#undef CALLOUT
#undef CALLOUT_BY

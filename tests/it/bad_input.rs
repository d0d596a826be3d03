//! The bad-input corpus: every malformed or inconsistent scenario, override
//! or argument exits with code 2 and a message naming the file, the line
//! and the field, and nothing panics.
//!
//! Each case edits a valid bundled scenario (the first occurrence of `old`
//! becomes `new`) and runs `capsim validate` on the result; the message
//! must name `FILE:LINE:` of the edit (or the line given) and every
//! expected fragment (the field path, usually).

use std::path::Path;

use crate::common::{capsim, stderr};

const BLACK_FRIDAY: &str = include_str!("../../scenarios/library/black-friday.toml");
const GEO: &str = include_str!("../../scenarios/library/geo-expansion.toml");
const TEN_X: &str = include_str!("../../scenarios/library/ten-x-growth.toml");
const TANDEM: &str = include_str!("../../scenarios/library/tandem.toml");

/// Where the message must point.
#[derive(Clone, Copy)]
enum Line {
    /// The line where `new` starts.
    Edit,
    /// The line of the first occurrence of this text in the edited file.
    Of(&'static str),
}

struct Case {
    name: &'static str,
    base: &'static str,
    old: &'static str,
    new: &'static str,
    line: Line,
    expect: &'static [&'static str],
}

const fn case(
    name: &'static str,
    base: &'static str,
    old: &'static str,
    new: &'static str,
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        base,
        old,
        new,
        line: Line::Edit,
        expect,
    }
}

const fn at(mut c: Case, line: Line) -> Case {
    c.line = line;
    c
}

const BF: &str = BLACK_FRIDAY;

#[rustfmt::skip]
const CASES: &[Case] = &[
    // TOML itself.
    case("syntax: two equals signs", BF, "rate_per_s = 500", "rate_per_s = = 500", &["TOML syntax error"]),
    case("syntax: unclosed string", BF, "name = \"black-friday\"", "name = \"black-friday", &["TOML syntax error"]),
    at(case("syntax: duplicate key", BF, "seed = 1127", "seed = 1127\nseed = 1128", &["TOML syntax error", "duplicate key"]), Line::Of("seed = 1128")),
    case("syntax: unclosed table header", BF, "[tiers.redis]", "[tiers.redis", &["TOML syntax error"]),
    // Closed classes.
    at(case("an unknown station discipline", TANDEM, "servers = 1\n", "servers = 1\ndiscipline = \"lifo\"\n", &["tiers.frontend.discipline", "unknown discipline `lifo`", "\"ps\""]), Line::Of("discipline = \"lifo\"")),
    at(case("a processor-sharing limit below zero", TANDEM, "servers = 1\n", "servers = 1\ndiscipline = \"ps\"\nlimit = -2\n", &["tiers.frontend.limit"]), Line::Of("limit = -2")),
    at(case("a processor-sharing limit of 0", TANDEM, "servers = 1\n", "servers = 1\ndiscipline = \"ps\"\nlimit = 0\n", &["tiers.frontend.limit", "at least 1"]), Line::Of("limit = 0")),
    at(case("a limit without processor sharing", TANDEM, "servers = 1\n", "servers = 1\nlimit = 4\n", &["tiers.frontend.limit", "give `discipline = \"ps\"`"]), Line::Of("limit = 4")),
    at(case("a zero queue deadline", TANDEM, "servers = 1\n", "servers = 1\ndeadline = \"0s\"\n", &["tiers.frontend.deadline", "positive duration"]), Line::Of("deadline = ")),
    at(case("a patience that is not a distribution", TANDEM, "servers = 1\n", "servers = 1\npatience = { dist = \"exponential\" }\n", &["tiers.frontend.patience"]), Line::Of("patience = ")),
    at(case("a class priority past 255", TANDEM, "rate_per_s = 30.0\n", "rate_per_s = 30.0\npriority = 300\n", &["classes.requests.priority"]), Line::Of("priority = 300")),
    at(case("an API discipline a CPU cannot have", BF, "discipline = \"ps\"", "discipline = \"priority\"", &["tiers.api.discipline", "priority"]), Line::Of("discipline = \"priority\"")),
    case("closed class with a share too", BF, "share = 0.3", "share = 0.3\nusers = 50\nthink = { dist = \"exponential\", mean = \"5s\" }", &["classes.static.share", "a closed class's rate is set by its users' answers and think times: it has no `share`"]),
    at(case("closed class without think", BF, "share = 0.3", "users = 50", &["classes.static.think", "needs its users' think time"]), Line::Of("[classes.static]")),
    case("closed class with 0 users", BF, "share = 0.3", "users = 0\nthink = { dist = \"exponential\", mean = \"5s\" }", &["classes.static.users", "at least 1 user"]),
    case("think without users", BF, "share = 0.3", "share = 0.3\nthink = { dist = \"exponential\", mean = \"5s\" }", &["classes.static.think", "give its `users` too"]),
    case("closed class beyond the users limit", BF, "share = 0.3", "users = 2000000\nthink = { dist = \"exponential\", mean = \"5s\" }", &["classes.static.users", "at most 1000000"]),
    // Arrival processes.
    at(case("unknown arrival process", BF, "share = 0.3", "share = 0.3\narrivals = { process = \"bursty\" }", &["classes.static.arrivals.process", "unknown arrival process \"bursty\": one of"]), Line::Of("arrivals = {")),
    at(case("batch sizes that do not sum to 1", BF, "share = 0.3", "share = 0.3\narrivals = { process = \"batch\", sizes = [{ n = 1, p = 0.5 }, { n = 9, p = 0.4 }] }", &["classes.static.arrivals.sizes", "sum to 1"]), Line::Of("arrivals = {")),
    case("renewal with a share", BF, "share = 0.3", "share = 0.3\narrivals = { process = \"renewal\", interarrival = { dist = \"erlang\", k = 4, mean = \"5ms\" } }", &["classes.static.share", "a renewal class's rate is 1 / the mean of its `interarrival`"]),
    at(case("batch of zero", BF, "share = 0.3", "share = 0.3\narrivals = { process = \"batch\", sizes = [{ n = 0, p = 1.0 }] }", &["classes.static.arrivals.sizes[0].n", "a batch holds 1 to 100000 requests"]), Line::Of("arrivals = {")),
    at(case("an MMPP with one state", BF, "share = 0.3", "arrivals = { process = \"mmpp\", states = [{ rate_per_s = 300, mean = \"10s\" }] }", &["classes.static.arrivals.states", "exactly 2 states"]), Line::Of("arrivals = {")),
    at(case("an MMPP silent in both states", BF, "share = 0.3", "arrivals = { process = \"mmpp\", states = [{ rate_per_s = 0, mean = \"10s\" }, { rate_per_s = 0, mean = \"1m\" }] }", &["classes.static.arrivals.states", "at least one state must have a rate above 0"]), Line::Of("arrivals = {")),
    case("an MMPP with a share", BF, "share = 0.3", "share = 0.3\narrivals = { process = \"mmpp\", states = [{ rate_per_s = 300, mean = \"10s\" }, { rate_per_s = 0, mean = \"1m\" }] }", &["classes.static.share", "an MMPP class's rate is the time average"]),
    // Unknown keys: a typo is never ignored.
    case("unknown top-level table", BF, "[simulation]", "[simulaton]", &["unknown field `simulaton`"]),
    case("unknown simulation key", BF, "warmup = \"10m\"", "warmpu = \"10m\"", &["simulation.warmpu", "unknown field"]),
    case("unknown tier key", BF, "cores = 1", "coers = 1", &["tiers.api.coers", "unknown field"]),
    case("unknown distribution key", BF, "mean = \"25ms\", p99", "mena = \"25ms\", p99", &["tiers.edge.edge_latency.mena"]),
    case("unknown route-step key", BF, "{ cdn = \"edge\" }", "{ cdn = \"edge\", latency = \"1ms\" }", &["classes.static.route[0].latency"]),
    case("unknown policy key", BF, "target = 0.70", "targt = 0.70", &["tiers.api.scaling.policies[0].targt"]),
    case("unknown slo key", BF, "availability = 0.999", "availabilty = 0.999", &["slos[1].availabilty"]),
    case("unknown query key", BF, "queries.order = { kind = \"write\",", "queries.order = { knd = \"write\",", &["tiers.pg.queries.order"]),
    case("unknown variant key", BF, "description = \"the same day", "descripton = \"the same day", &["variants.unprepared.descripton"]),
    case("unknown profile key", BF, "plateau = \"20m\"", "plateua = \"20m\"", &["workload.profile.plateua"]),
    case("unknown tier kind", BF, "kind = \"cache\"", "kind = \"memcache\"", &["tiers.redis.kind", "station"]),
    case("unknown distribution", BF, "dist = \"lognormal\"", "dist = \"lognormla\"", &["tiers.edge.edge_latency.dist"]),
    case("unknown profile kind", BF, "kind = \"spike\"", "kind = \"spikey\"", &["workload.profile.kind"]),
    case("unknown balancer", BF, "balancer = \"least_connections\"", "balancer = \"fastest\"", &["tiers.api.balancer"]),
    case("unknown scaling metric", BF, "metric = \"pool_utilization\"", "metric = \"pool\"", &["tiers.pg.scaling.policies[0].metric"]),
    case("unknown instance type", BF, "instance_type = \"c5.large\"", "instance_type = \"c5.huge\"", &["tiers.api.instance_type", "c5.huge"]),
    at(case("unknown failure action", BF, "[variants.unprepared]", "[[failures]]\ntier = \"api\"\naction = \"explode\"\nat = \"1h\"\n\n[variants.unprepared]", &["failures[0].action"]), Line::Of("action = \"explode\"")),
    // Wrong types.
    case("type: string for an integer", BF, "replications = 3", "replications = \"three\"", &["simulation.replications", "whole number"]),
    case("type: string for a number", BF, "hit_ratio = 0.95", "hit_ratio = \"high\"", &["tiers.edge.hit_ratio"]),
    case("type: number for a duration", BF, "duration = \"85m\"", "duration = 3", &["simulation.duration", "duration string"]),
    case("type: table for a route", BF, "route = [{ cdn = \"edge\" }, ", "route = { cdn = \"edge\" }\nx = [", &["classes.static.route"]),
    case("type: float instances", BF, "instances = 2", "instances = 2.5", &["tiers.api.instances"]),
    case("type: negative seed", BF, "seed = 1127", "seed = -1", &["simulation.seed"]),
    case("type: bool for a size", BF, "working_set = \"16GB\"", "working_set = true", &["tiers.redis.working_set"]),
    case("type: bad size", BF, "response_size = \"12KB\"", "response_size = \"12 parsecs\"", &["classes.browse.response_size"]),
    // Non-positive rates and durations; values outside their range.
    case("negative rate", BF, "rate_per_s = 500", "rate_per_s = -5", &["workload.rate_per_s"]),
    case("zero rate", BF, "rate_per_s = 500", "rate_per_s = 0", &["workload.rate_per_s"]),
    case("NaN rate", BF, "rate_per_s = 500", "rate_per_s = nan", &["workload.rate_per_s"]),
    case("infinite rate", BF, "rate_per_s = 500", "rate_per_s = inf", &["workload.rate_per_s"]),
    case("zero duration", BF, "duration = \"85m\"", "duration = \"0s\"", &["simulation.duration"]),
    case("negative duration", BF, "duration = \"85m\"", "duration = \"-3h\"", &["simulation.duration"]),
    case("warm-up past the end", BF, "warmup = \"10m\"", "warmup = \"4h\"", &["simulation.warmup"]),
    at(case("zero interval", BF, "seed = 1127", "seed = 1127\ninterval = \"0s\"", &["simulation.interval"]), Line::Of("interval =")),
    case("no replications", BF, "replications = 3", "replications = 0", &["simulation.replications", "at least 1 replication"]),
    case("zero instances", BF, "instances = 2", "instances = 0", &["tiers.api.instances"]),
    case("zero pool", BF, "pool = { size = 25", "pool = { size = 0", &["tiers.pg.pool.size"]),
    case("negative price", BF, "instance_type = \"c5.large\"\ncores", "price_per_hour = -0.1\ncores", &["tiers.api.price_per_hour"]),
    case("zero retries backoff", BF, "retries = 3 }", "retries = 3, backoff = \"-1s\" }", &["tiers.workers.jobs.confirmation.backoff"]),
    // Probabilities and percentages.
    case("probability above 1", BF, "failure_probability = 0.001", "failure_probability = 1.5", &["tiers.workers.jobs.confirmation.failure_probability"]),
    case("hit ratio below 0", BF, "hit_ratio = 0.95", "hit_ratio = -0.1", &["tiers.edge.hit_ratio"]),
    case("share above 1", BF, "share = 0.3", "share = 1.4", &["classes.static.share"]),
    case("availability above 1", BF, "availability = 0.999", "availability = 99.9", &["slos[1].availability"]),
    case("percentile above 100", BF, "percentile = 95", "percentile = 101", &["slos[0].percentile"]),
    case("percentage change above 100", BF, "change = 1\n", "change = \"-150%\"\n", &["tiers.pg.scaling.policies[0].change"]),
    case("target utilisation above 100%", BF, "target = 0.70", "target = 1.7", &["tiers.api.scaling.policies[0].target"]),
    at(case("purchase fractions above 1", BF, "mode = \"async\"", "mode = \"async\"\npurchase = { on_demand = 0.5, reserved = 0.6 }", &["tiers.api.purchase"]), Line::Of("purchase =")),
    // Inconsistent fields.
    at(case("min above max", BF, "min = 2\nmax = 10", "min = 12\nmax = 10", &["tiers.api.scaling"]), Line::Of("max = 10")),
    at(case("instances outside min..max", BF, "instances = 2", "instances = 20", &["tiers.api.scaling", "instances"]), Line::Of("[tiers.api.scaling]")),
    case("route names a missing tier", BF, "{ api = \"api\", cpu = { dist = \"exponential\", mean = \"1ms\" } },\n  { cache", "{ api = \"apii\", cpu = { dist = \"exponential\", mean = \"1ms\" } },\n  { cache", &["classes.browse.route[0]", "apii"]),
    case("route names a missing query", BF, "{ db = \"pg\", query = \"product\" }", "{ db = \"pg\", query = \"prodcut\" }", &["classes.browse.route[1].on_miss[0].query"]),
    case("route names a missing job", BF, "job = \"confirmation\"", "job = \"confirm\"", &["classes.order.route[2].job"]),
    case("route step of the wrong kind", BF, "{ enqueue = \"workers\"", "{ enqueue = \"redis\"", &["classes.order.route[2]"]),
    case("route enters two API pools", BF, "{ db = \"pg\", query = \"order\" },", "{ api = \"api\" },", &["classes.order.route[1]"]),
    case("empty route", BF, "route = [{ cdn = \"edge\" }, { api = \"api\", cpu = { dist = \"exponential\", mean = \"0.5ms\" } }]", "route = []", &["classes.static.route"]),
    case("route nested too deep (routes are trees: no cycles)", BF, "route = [{ cdn = \"edge\" }, ", "route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [{ branch = [{ p = 1.0, route = [\"edge\"] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }] }, ", &["classes.static.route", "deep"]),
    case("branch probabilities not summing to 1", BF, "{ db = \"pg\", query = \"order\" },", "{ branch = [{ p = 0.5, route = [{ db = \"pg\", query = \"order\" }] }, { p = 0.4, route = [] }] },", &["classes.order.route[1].branch", "sum"]),
    at(case("shares not summing to 1", BF, "share = 0.14", "share = 0.24", &["share", "sum"]), Line::Of("[classes.static]")),
    case("share and rate both given", BF, "share = 0.14", "share = 0.14\nrate_per_s = 5", &["classes.order"]),
    case("empty class mix", TEN_X, "[classes.", "[unused.", &["classes"]),
    case("slo names a missing class", BF, "percentile = 95\nlatency = \"200ms\"", "class = \"checkout\"\npercentile = 95\nlatency = \"200ms\"", &["slos[0].class", "checkout"]),
    at(case("failure names a missing tier", BF, "[variants.unprepared]", "[[failures]]\ntier = \"mysql\"\nat = \"1h\"\n\n[variants.unprepared]", &["failures[0].tier", "mysql"]), Line::Of("tier = \"mysql\"")),
    at(case("failure of a unit that does not exist", BF, "[variants.unprepared]", "[[failures]]\ntier = \"api\"\nunit = 40\nat = \"1h\"\n\n[variants.unprepared]", &["failures[0].unit"]), Line::Of("unit = 40")),
    case("queue names a missing queue", BF, "{ queue = \"default\", service", "{ queue = \"fast\", service", &["tiers.workers.jobs.confirmation.queue", "fast"]),
    case("variant sets a missing field", BF, "\"tiers.api.scaling.max=2\",", "\"tiers.api.scaling.maxx=2\",", &["variants.unprepared.set[0]", "maxx"]),
    case("variant with a malformed override", BF, "\"tiers.api.scaling.max=2\",", "\"tiers.api.scaling.max\",", &["variants.unprepared.set[0]", "PATH=VALUE"]),
    // Distributions with impossible parameters.
    case("lognormal p99 below its mean", BF, "mean = \"25ms\", p99 = \"120ms\"", "mean = \"25ms\", p99 = \"20ms\"", &["tiers.edge.edge_latency.p99"]),
    case("lognormal with mean and sigma", BF, "mean = \"25ms\", p99 = \"120ms\"", "mean = \"25ms\", sigma = 1.0", &["tiers.edge.edge_latency"]),
    case("uniform with min above max", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"uniform\", min = \"30ms\", max = \"20ms\" }", &["tiers.edge.edge_latency"]),
    case("gamma of shape 0", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"gamma\", shape = 0.0, mean = \"20ms\" }", &["tiers.edge.edge_latency.shape"]),
    case("erlang of k 0", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"erlang\", k = 0, mean = \"20ms\" }", &["tiers.edge.edge_latency.k"]),
    case("hyperexponential branches not summing to 1", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"hyperexponential\", branches = [{ p = 0.5, mean = \"1ms\" }, { p = 0.6, mean = \"9ms\" }] }", &["tiers.edge.edge_latency.branches"]),
    case("empirical without samples", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"empirical\", samples = [] }", &["tiers.edge.edge_latency.samples"]),
    case("pareto without a mean", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"pareto\", shape = 0.8, scale = \"5ms\" }", &["tiers.edge.edge_latency.shape"]),
    case("weibull of shape 0", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"weibull\", shape = 0.0, scale = \"5ms\" }", &["tiers.edge.edge_latency.shape"]),
    case("exponential of mean 0", BF, "service = { dist = \"lognormal\", mean = \"100ms\", p99 = \"1s\" }, failure", "service = { dist = \"exponential\", mean = \"0s\" }, failure", &["tiers.workers.jobs.confirmation.service.mean"]),
    // Durations that overflow.
    case("duration overflow: huge number", BF, "duration = \"85m\"", "duration = \"99999999999999999999h\"", &["simulation.duration"]),
    case("duration overflow: exponent", BF, "duration = \"85m\"", "duration = \"1e30d\"", &["simulation.duration"]),
    case("duration overflow: 584 years, near the nanosecond limit", BF, "duration = \"85m\"", "duration = \"213503d\"", &["simulation.duration", "100 years"]),
    case("duration overflow: windows spanning 260 years", TEN_X, "every = ", "every = \"520w\" #", &["windows.every", "100 years"]),
    case("integer overflow: the most negative change", BF, "change = 1\n", "change = -9223372036854775808\n", &["tiers.pg.scaling.policies[0].change"]),
    case("missing table", BF, "[scenario]\nname = \"black-friday\"", "[scenari]\nname = \"black-friday\"", &["scenari"]),
    at(case("missing required field", TEN_X, "count = 13", "# count = 13", &["windows.count", "required"]), Line::Of("[windows]")),
    case("duration overflow: fits nanoseconds but not a run", BF, "duration = \"85m\"", "duration = \"100000w\"", &["simulation.duration"]),
    case("profile time overflows", BF, "start = \"30m\", rise", "start = \"9999999999d\", rise", &["workload.profile.start"]),
    // The start instant and calendar profiles.
    case("start: not a date", BF, "start = \"2026-11-27T07:30:00-05:00\"", "start = \"2026-13-45T07:00:00-05:00\"", &["simulation.start"]),
    case("start: bad offset", BF, "start = \"2026-11-27T07:30:00-05:00\"", "start = \"2026-11-27T07:00:00-25:00\"", &["simulation.start"]),
    case("spike below 1", BF, "multiplier = 20 }", "multiplier = 0.5 }", &["workload.profile.multiplier"]),
    case("diurnal with 23 hours", GEO, "0.9, 0.7, 0.5] }", "0.9, 0.7] }", &["workload.profile.hours", "24"]),
    case("diurnal with a negative hour", GEO, "hours = [0.35,", "hours = [-0.35,", &["workload.profile.hours"]),
    case("steps not increasing", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"steps\", steps = [{ at = \"1h\", multiplier = 2 }, { at = \"30m\", multiplier = 3 }] }", &["workload.profile.steps[1].at"]),
    case("growth of factor 0", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"growth\", over = \"1h\", factor = 0 }", &["workload.profile.factor"]),
    case("profile zero everywhere", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"ramp\", from = 0, to = 0, duration = \"1h\" }", &["workload.profile"]),
    case("utc offset out of range", GEO, "utc_offset = \"+05:30\"", "utc_offset = \"+15:30\"", &["regions.ap-south.utc_offset"]),
    // Windows.
    case("windows: zero count", TEN_X, "count = ", "count = 0 #", &["windows.count"]),
    case("windows: zero every", TEN_X, "every = ", "every = \"0s\" #", &["windows.every"]),
    case("windows: unknown key", TEN_X, "count = ", "cuont = ", &["windows.cuont"]),
    // Regions.
    case("geo: primary not a region", GEO, "primary = \"us-east\"", "primary = \"us-west\"", &["geo.primary", "us-west"]),
    case("geo: regional tier missing", GEO, "regional = [\"api\", \"redis\", \"pg\"]", "regional = [\"api\", \"redis\", \"postgres\"]", &["geo.regional", "postgres"]),
    at(case("geo: missing rtt pair", GEO, "rtt.eu-central = { ap-south = \"110ms\" }", "", &["geo.rtt", "ap-south"]), Line::Of("rtt.us-east")),
    case("geo: rtt to an unknown region", GEO, "rtt.eu-central = { ap-south = \"110ms\" }", "rtt.eu-central = { ap-south = \"110ms\", mars = \"1s\" }", &["geo.rtt", "mars"]),
    at(case("geo: negative failover backlog", GEO, "health_check = \"30s\"", "health_check = \"30s\"\nfailover_backlog = -1", &["geo.failover_backlog"]), Line::Of("failover_backlog")),
    at(case("regions: shares not summing to 1", GEO, "share = 0.2\nutc_offset", "share = 0.3\nutc_offset", &["regions", "sum"]), Line::Of("[regions.us-east]")),
    case("regions: unknown key", GEO, "user_rtt = \"30ms\"\n\n[regions.ap-south]", "user_rt = \"30ms\"\n\n[regions.ap-south]", &["regions.eu-central.user_rt"]),
    case("regions: tier override of a non-regional tier", GEO, "[regions.ap-south]\nshare = 0.2", "[regions.ap-south.tiers.workers]\nworkers = 3\n\n[regions.ap-south]\nshare = 0.2", &["regions.ap-south.tiers.workers"]),
    at(case("failure names a missing region", GEO, "[[slos]]\npercentile = 95", "[[failures]]\nregion = \"mars\"\nat = \"1h\"\n\n[[slos]]\npercentile = 95", &["failures[0].region", "mars"]), Line::Of("region = \"mars\"")),
    case("slo names a missing region", GEO, "region = \"us-east\"", "region = \"us-west\"", &["slos[2].region", "us-west"]),
    case("regions without geo", GEO, "[geo]\nprimary = \"us-east\"", "[geox]\nprimary = \"us-east\"", &["geox"]),
    // Sizes of what crosses regions, and its price.
    case("a request size in an unknown unit", GEO, "request_size = \"1KB\"", "request_size = \"1 parsec\"", &["tiers.pg.request_size", "unknown size unit"]),
    case("a replication size without a unit", GEO, "replication_size = \"2KB\"", "replication_size = \"2048\"", &["tiers.pg.replication_size", "has no unit"]),
    at(case("a response size that is not a size string", GEO, "[tiers.redis]\nkind = \"cache\"", "[tiers.redis]\nkind = \"cache\"\nresponse_size = 4096", &["tiers.redis.response_size"]), Line::Of("response_size = 4096")),
    at(case("a job size on a database", GEO, "[tiers.pg]\nkind = \"database\"", "[tiers.pg]\nkind = \"database\"\njob_size = \"1KB\"", &["tiers.pg.job_size"]), Line::Of("job_size")),
    at(case("a request size on an API tier", GEO, "[tiers.api]\nkind = \"api\"", "[tiers.api]\nkind = \"api\"\nrequest_size = \"1KB\"", &["tiers.api.request_size"]), Line::Of("request_size")),
    at(case("a negative cross-region price", GEO, "[tiers.edge]", "[cost]\ncross_region_per_gb = -0.02\n\n[tiers.edge]", &["cost.cross_region_per_gb", "at least 0"]), Line::Of("cross_region_per_gb")),
    // Traces.
    case("trace file missing", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"replay\", file = \"no-such-trace.csv\" }", &["workload.profile.file", "no-such-trace.csv"]),
    case("trace: a bad value names its line", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"replay\", file = \"bad-value.csv\" }", &["workload.profile.file", "bad-value.csv line 4", "n/a"]),
    case("trace: times not increasing", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"replay\", file = \"backwards.csv\" }", &["workload.profile.file", "backwards.csv line 4"]),
    case("trace: unknown column", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"replay\", file = \"bad-header.csv\" }", &["workload.profile.file", "bad-header.csv line 1", "visitors"]),
    case("trace: not UTF-8", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"replay\", file = \"binary.csv\" }", &["workload.profile.file", "binary.csv"]),
    case("trace: a device is read only up to the size limit", BF, "profile = { kind = \"spike\", start = \"30m\", rise = \"10m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }", "profile = { kind = \"replay\", file = \"/dev/zero\" }", &["workload.profile.file", "/dev/zero", "256 MiB"]),
    // Times past the clock: refused at validation, never wrapped.
    case("time overflow: a lognormal service time past the clock", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"lognormal\", mu = 45, sigma = 0.1 }", &["tiers.edge.edge_latency", "lognormal", "mean", "1 year"]),
    case("time overflow: a weibull whose tail passes a year", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"weibull\", shape = 0.05, scale = \"1ms\" }", &["tiers.edge.edge_latency", "weibull", "1 year"]),
    case("time overflow: an exponential with a mean over a year", BF, "service = { dist = \"lognormal\", mean = \"100ms\", p99 = \"1s\" }, failure", "service = { dist = \"exponential\", mean = \"400d\" }, failure", &["tiers.workers.jobs.confirmation.service", "exponential", "1 year"]),
    // Counts and rates past their limits (docs/scenario-format.md, "Limits").
    case("limit: a billion API instances", BF, "instances = 2", "instances = 1000000000", &["tiers.api.instances", "at most 100000"]),
    at(case("limit: a cache with four billion shards", BF, "working_set = \"16GB\"", "working_set = \"16GB\"\nshards = 4000000000", &["tiers.redis.shards", "at most 10000"]), Line::Of("shards =")),
    case("limit: cores of an instance", BF, "cores = 1", "cores = 100000", &["tiers.api.cores", "at most 1024"]),
    case("limit: read replicas", BF, "replicas = 0", "replicas = 5000", &["tiers.pg.replicas", "at most 1000"]),
    case("limit: a database pool", BF, "pool = { size = 25", "pool = { size = 2500000", &["tiers.pg.pool.size", "at most 100000"]),
    case("limit: worker processes", BF, "workers = 2\ninstance_type", "workers = 1000000\ninstance_type", &["tiers.workers.workers", "at most 100000"]),
    case("limit: worker concurrency", BF, "concurrency = 10", "concurrency = 20000", &["tiers.workers.concurrency", "at most 10000"]),
    case("limit: job retries", BF, "retries = 3 }", "retries = 1000 }", &["tiers.workers.jobs.confirmation.retries", "at most 100"]),
    at(case("limit: a scaling maximum", BF, "min = 2\nmax = 10", "min = 2\nmax = 1000000", &["tiers.api.scaling.max", "at most 100000"]), Line::Of("max = 1000000")),
    case("limit: the workload's rate", BF, "rate_per_s = 500", "rate_per_s = 1e9", &["workload.rate_per_s", "at most"]),
    case("limit: a spike's peak rate", BF, "multiplier = 20 }", "multiplier = 100000 }", &["workload.profile", "peaks at"]),
    case("limit: erlang phases", BF, "edge_latency = { dist = \"lognormal\", mean = \"25ms\", p99 = \"120ms\" }", "edge_latency = { dist = \"erlang\", k = 4294967295, mean = \"20ms\" }", &["tiers.edge.edge_latency.k", "at most 1000"]),
    at(case("limit: failures every nanosecond", BF, "[variants.unprepared]", "[[failures]]\ntier = \"api\"\nmtbf = \"1ns\"\nmttr = \"1ns\"\n\n[variants.unprepared]", &["failures[0].mtbf", "at least 1s"]), Line::Of("mtbf = ")),
    // API memory.
    at(case("memory: a negative amount per request", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\nmemory_per_request = \"-2MB\"", &["tiers.api.memory_per_request", "cannot be negative"]), Line::Of("memory_per_request")),
    at(case("memory: an unparseable base", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\nmemory_base = \"lots\"", &["tiers.api.memory_base", "unknown size unit"]), Line::Of("memory_base")),
    at(case("memory: a base larger than the instance", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\nmemory_base = \"5GB\"", &["tiers.api.memory_base", "must fit"]), Line::Of("memory_base")),
    at(case("memory: a size with nothing using it", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\nmemory = \"4GB\"", &["tiers.api.memory", "memory_per_request"]), Line::Of("memory =")),
    at(case("memory: a memory policy without the model", BF, "metric = \"cpu\"\ntarget = 0.70", "metric = \"memory\"\ntarget = 0.70", &["tiers.api.scaling.policies[0].metric", "memory_per_request"]), Line::Of("metric = \"memory\"")),
    // CPU credits.
    at(case("credits: an unknown mode", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\ncredits = \"turbo\"", &["tiers.api.credits", "turbo"]), Line::Of("credits =")),
    at(case("credits: a type that does not burst", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\ncredits = \"standard\"", &["tiers.api.credits", "burstable"]), Line::Of("credits =")),
    at(case("credits: more initial credits than a day's earnings", BF, "instance_type = \"c5.large\"", "instance_type = \"t3.small\"\ncredits = \"standard\"\ncredits_initial = 1000", &["tiers.api.credits_initial", "0 to 576"]), Line::Of("credits_initial")),
    at(case("credits: initial credits without a mode", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\ncredits_initial = 10", &["tiers.api.credits_initial", "needs `credits"]), Line::Of("credits_initial")),
    at(case("vcpu_speed of zero", BF, "balancer = \"least_connections\"", "balancer = \"least_connections\"\nvcpu_speed = 0", &["tiers.api.vcpu_speed", "above 0"]), Line::Of("vcpu_speed")),
    // Numbers TOML cannot hold still name their field.
    case("number: a seed past TOML's integers", BF, "seed = 1127", "seed = 18446744073709551615", &["simulation.seed", "too large"]),
    case("number: a rate past the largest float", BF, "rate_per_s = 500", "rate_per_s = 1e400", &["workload.rate_per_s", "too large"]),
    // Duration messages name the mistake.
    case("duration: a spaced unknown unit", BF, "duration = \"85m\"", "duration = \"5 fortnights\"", &["simulation.duration", "unknown unit \"fortnights\""]),
    case("duration: an exponent", BF, "duration = \"85m\"", "duration = \"1e30s\"", &["simulation.duration", "exponent"]),
    // The price catalogue.
    at(case("catalogue: an unknown bundled name", BF, "[tiers.redis]", "[cost]\ncatalogue = \"gcp-us-centrall\"\n\n[tiers.redis]", &["cost.catalogue", "no bundled catalogue \"gcp-us-centrall\"", "gcp-us-central1"]), Line::Of("catalogue =")),
    at(case("catalogue: not a string", BF, "[tiers.redis]", "[cost]\ncatalogue = 5\n\n[tiers.redis]", &["cost.catalogue", "invalid type"]), Line::Of("catalogue =")),
    at(case("catalogue: a file that is not there", BF, "[tiers.redis]", "[cost]\ncatalogue = \"missing-prices.toml\"\n\n[tiers.redis]", &["cost.catalogue", "cannot read the catalogue file", "missing-prices.toml"]), Line::Of("catalogue =")),
    at(case("catalogue: a file with a misspelt field", BF, "[tiers.redis]", "[cost]\ncatalogue = \"broken-prices.toml\"\n\n[tiers.redis]", &["cost.catalogue", "broken-prices.toml:16:1: in [instances.vm]: unknown field `vcpu`"]), Line::Of("catalogue =")),
    at(case("catalogue: a file with a price of 0", BF, "[tiers.redis]", "[cost]\ncatalogue = \"free-prices.toml\"\n\n[tiers.redis]", &["cost.catalogue", "free-prices.toml:18:18: field `instances.vm.price_per_hour`: a list price is above 0"]), Line::Of("catalogue =")),
    at(case("catalogue: a type the chosen catalogue does not sell", BF, "[tiers.redis]", "[cost]\ncatalogue = \"gcp-us-central1\"\n\n[tiers.redis]", &["tiers.api.instance_type", "no instance type \"c5.large\" in the catalogue (gcp-us-central1)", "n2-standard-2"]), Line::Of("instance_type = \"c5.large\"")),
    at(case("catalogue: a price the chosen catalogue lacks", BF, "[tiers.redis]", "[cost]\ncatalogue = \"azure-eastus\"\n\n[tiers.redis]", &["cost.egress_per_gb", "the catalogue azure-eastus has no price"]), Line::Of("[cost]")),
    // Expectations and assumptions (the tandem declares four expectations).
    at(case("expectation: no bound", TANDEM, "equals = 50\n", "", &["expectations[0]", "give the bound"]), Line::Of("[[expectations]]")),
    case("expectation: two kinds of bound", TANDEM, "equals = 50\n", "equals = 50\nat_most = 60\n", &["expectations[0].equals", "one kind of bound"]),
    at(case("expectation: bounds that cannot both hold", TANDEM, "equals = 50\n", "at_least = 60\nat_most = 50\n", &["expectations[0].at_most", "below at_least"]), Line::Of("at_most = 50")),
    case("expectation: not a finite number", TANDEM, "equals = 50\n", "equals = nan\n", &["expectations[0].equals", "finite"]),
    case("expectation: a result summary.json does not have", TANDEM, "metric = \"tiers.frontend.latency_ms.mean\"", "metric = \"latencies.mean\"", &["expectations[0].metric", "`latencies` is not a result in summary.json", "latency_ms"]),
    case("expectation: a tier the scenario does not have", TANDEM, "metric = \"tiers.frontend.latency_ms.mean\"", "metric = \"tiers.front.latency_ms.mean\"", &["expectations[0].metric", "`tiers.front`", "frontend, backend"]),
    case("expectation: an empty key in the path", TANDEM, "metric = \"tiers.frontend.latency_ms.mean\"", "metric = \"tiers..mean\"", &["expectations[0].metric", "dotted path"]),
    at(case("expectation: a run the scenario does not have", TANDEM, "equals = 50\n", "equals = 50\nruns = [\"peak\"]\n", &["expectations[0].runs[0]", "no variant `peak`", "base"]), Line::Of("runs = ")),
    case("expectation: an empty claim", TANDEM, "claim = \"front end mean response 50 ms\"", "claim = \" \"", &["expectations[0].claim", "must not be empty"]),
    at(case("expectation: an unknown key", TANDEM, "equals = 50\n", "equals = 50\nwithin = 3\n", &["expectations[0]", "unknown field `within`"]), Line::Of("within = ")),
    at(case("expectation: no source", TANDEM, "source = \"M/M/1 at ρ = 0.6\"\nmetric = \"tiers.frontend.latency_ms.mean\"", "metric = \"tiers.frontend.latency_ms.mean\"", &["expectations[0].source", "missing: this field is required"]), Line::Of("[[expectations]]")),
    at(case("assumption: an input the file does not have", TANDEM, "[[expectations]]", "[[assumptions]]\ninput = \"tiers.frontend.capacity\"\nwhy = \"room\"\n\n[[expectations]]", &["assumptions[0].input", "`tiers.frontend.capacity` is not in the scenario"]), Line::Of("input =")),
    at(case("assumption: not a field path", TANDEM, "[[expectations]]", "[[assumptions]]\ninput = \"tiers..servers\"\nwhy = \"room\"\n\n[[expectations]]", &["assumptions[0].input", "not a field path"]), Line::Of("input =")),
    at(case("assumption: no reason", TANDEM, "[[expectations]]", "[[assumptions]]\ninput = \"tiers.frontend.servers\"\nwhy = \"\"\n\n[[expectations]]", &["assumptions[0].why", "say why"]), Line::Of("why =")),
];

/// Traces the cases above read, beside the scenario file.
fn write_traces(dir: &Path) {
    let w = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    w(
        "bad-value.csv",
        b"time,requests_per_s\n0,100\n60,120\n120,n/a\n",
    );
    w("backwards.csv", b"time,multiplier\n0,1\n60,2\n30,3\n");
    w("bad-header.csv", b"time,visitors\n0,100\n");
    w("binary.csv", &[0xff, 0xfe, 0x00, 0x41, 0x0a]);
    let prices = "[meta]\nname = \"x\"\nprovider = \"p\"\nregion = \"r\"\ncurrency = \"USD\"\n\n\
        [services.compute]\nname = \"VM\"\nbilling = \"per_second\"\nminimum_s = 60\nsource = \"rate card\"\ndate = \"2026-07\"\n\n\
        [instances.vm]\nservice = \"compute\"\nvcpus = 2\nmemory_gib = 8\nprice_per_hour = 0.1\nsource = \"rate card\"\ndate = \"2026-07\"\n";
    w(
        "broken-prices.toml",
        prices.replace("vcpus", "vcpu").as_bytes(),
    );
    w(
        "free-prices.toml",
        prices.replace("= 0.1", "= 0").as_bytes(),
    );
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

#[test]
fn every_bad_scenario_in_the_corpus_exits_2_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    write_traces(dir.path());
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let Some(at) = c.base.find(c.old) else {
            failures.push(format!(
                "{}: `{}` is not in the base scenario",
                c.name, c.old
            ));
            continue;
        };
        let text = format!("{}{}{}", &c.base[..at], c.new, &c.base[at + c.old.len()..]);
        let file = format!("case{i:03}.toml");
        let path = dir.path().join(&file);
        std::fs::write(&path, &text).unwrap();
        let o = capsim(&["validate", path.to_str().unwrap()]);
        let err = stderr(&o);
        let mut wrong = Vec::new();
        if o.status.code() != Some(2) {
            wrong.push(format!("exit code {:?}", o.status.code()));
        }
        if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
            wrong.push("panicked".to_string());
        }
        let located = match c.line {
            Line::Edit => Some(line_of(&text, at)),
            Line::Of(needle) => text.find(needle).map(|b| line_of(&text, b)),
        };
        match located {
            Some(n) if !err.contains(&format!("{file}:{n}:")) => {
                wrong.push(format!("does not name {file}:{n}:"))
            }
            None => wrong.push("the case's line text is not in the file".to_string()),
            _ => {}
        }
        for e in c.expect {
            if !err.contains(e) {
                wrong.push(format!("does not say `{e}`"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({file}): {}\n    {}",
                c.name,
                wrong.join("; "),
                err.trim().replace('\n', "\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// Bad command lines: each exits 2 naming the argument at fault.
#[test]
fn bad_arguments_exit_2_naming_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    std::fs::write(
        dir.path().join("latin1.toml"),
        b"[scenario]\nname = \"caf\xe9\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.toml"), b"").unwrap();
    let latin1 = dir.path().join("latin1.toml");
    let empty = dir.path().join("empty.toml");
    let (latin1, empty, folder) = (
        latin1.to_str().unwrap(),
        empty.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    );
    let sweep = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = ["sweep", "mmc-reference", "--out", out]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let own = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let cases: Vec<(Vec<String>, &[&str])> = vec![
        (
            own(&["validate", "mmc-reference", "--set", "tiers.nope.servers=3"]),
            &["--set tiers.nope.servers=3", "nope"],
        ),
        (
            own(&[
                "validate",
                "mmc-reference",
                "--set",
                "simulation.seed=18446744073709551615",
            ]),
            &["field `simulation.seed`", "too large"],
        ),
        (
            own(&[
                "validate",
                "mmc-reference",
                "--set",
                "simulation.replications=abc",
            ]),
            &[
                "--set simulation.replications=abc",
                "simulation.replications",
            ],
        ),
        (
            own(&[
                "validate",
                "mmc-reference",
                "--set",
                "simulation.replications=2.5",
            ]),
            &["simulation.replications", "whole number"],
        ),
        (
            own(&[
                "validate",
                "mmc-reference",
                "--set",
                "tiers.servers.service.mean=5",
            ]),
            &["tiers.servers.service.mean", "duration"],
        ),
        (
            own(&[
                "validate",
                "mmc-reference",
                "--set",
                "classes.jobs.route[3]=\"servers\"",
            ]),
            &["classes.jobs.route[3]"],
        ),
        (
            own(&[
                "validate",
                "mmc-reference",
                "--set",
                "classes.jobs.rate_per_s=-1",
            ]),
            &["classes.jobs.rate_per_s"],
        ),
        (
            own(&["validate", "mmc-reference", "--set", "=3"]),
            &["--set =3"],
        ),
        (
            own(&["validate", "mmc-reference", "--set", "a..b=1"]),
            &["--set a..b=1"],
        ),
        (
            own(&["validate", "mmc-reference", "--variant", "nope"]),
            &["--variant nope"],
        ),
        (
            own(&["validate", "black-friday", "--variant", "nope"]),
            &["--variant nope", "unprepared"],
        ),
        (
            own(&["run", "mmc-reference", "--interval", "0s"]),
            &["simulation.interval"],
        ),
        (
            own(&["run", "mmc-reference", "--interval", "soon"]),
            &["--interval soon"],
        ),
        (own(&["run", "mmc-reference", "--seed", "-1"]), &["'-1'"]),
        (
            own(&["run", "mmc-reference", "--replications", "0"]),
            &["replications"],
        ),
        (own(&["run", "mmc-reference", "--bogus"]), &["--bogus"]),
        (own(&["validate", latin1]), &["latin1.toml", "UTF-8"]),
        (own(&["validate", empty]), &["empty.toml", "scenario"]),
        (own(&["validate", folder]), &["is a directory"]),
        (
            sweep(&["--param", "tiers.servers.servers=10,11", "--shard", "5/4"]),
            &["--shard 5/4"],
        ),
        (
            sweep(&["--param", "tiers.servers.servers=10,11", "--shard", "0/4"]),
            &["--shard 0/4"],
        ),
        (
            sweep(&["--param", "tiers.servers.servers=10,11", "--shard", "1/0"]),
            &["--shard 1/0"],
        ),
        (
            sweep(&["--param", "tiers.servers.servers=10,11", "--shard", "half"]),
            &["--shard half"],
        ),
        (
            sweep(&["--param", "tiers.nope.servers=10,11"]),
            &["tiers.nope.servers"],
        ),
        (
            sweep(&["--param", "tiers.servers.servers=ten,11"]),
            &["tiers.servers.servers"],
        ),
        (
            sweep(&[
                "--param",
                "tiers.servers.servers=10..12",
                "--sample",
                "latin:0",
            ]),
            &["latin:0"],
        ),
        (
            sweep(&["--param", "tiers.servers.servers=10,11", "--metric", "p42"]),
            &["p42"],
        ),
        (sweep(&[]), &["--param"]),
    ];
    let mut failures = Vec::new();
    for (args, expect) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = capsim(&args);
        let err = stderr(&o);
        let mut wrong = Vec::new();
        if o.status.code() != Some(2) {
            wrong.push(format!("exit code {:?}", o.status.code()));
        }
        if err.contains("panicked") {
            wrong.push("panicked".to_string());
        }
        for e in *expect {
            if !err.contains(e) {
                wrong.push(format!("does not say `{e}`"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "capsim {}: {}\n    {}",
                args.join(" "),
                wrong.join("; "),
                err.trim()
            ));
        }
    }
    assert!(
        !std::path::Path::new(out).exists(),
        "no bad sweep wrote its output directory"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

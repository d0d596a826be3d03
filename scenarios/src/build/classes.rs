//! `[classes.*]`: the request mix. Each class gets its arrival rate (its own
//! or a share of the workload's), its profile, its client policy (timeout,
//! retries, backoff) and its route compiled against the tiers; with regions,
//! one copy per region of its users.

use capsim_models::{Arrivals, ClassConfig, ClientPolicy, Population, Process, RateProfile};
use indexmap::IndexMap;
use sim_engine::Dist;

use super::profile::{self, ProfileContext};
use super::regions::Geo;
use super::tier_set::{Expanded, Tiers};
use super::tiers::Checks;
use super::workload::Workload;
use super::{check_name, limits, route, values};
use crate::error::FieldPath;
use crate::raw::RawClass;

/// What classes are built against.
pub struct Scope<'a> {
    pub root: &'a FieldPath,
    pub workload: &'a Workload,
    /// Horizon, start and trace directory of every profile.
    pub calendar: &'a ProfileContext<'a>,
    pub tiers: &'a Tiers,
    /// The tiers with their regional copies (with valid regions).
    pub expanded: Option<&'a Expanded>,
    pub geo: Option<&'a Geo>,
}

impl Scope<'_> {
    fn profile_ctx(&self, base_rate: Option<f64>) -> ProfileContext<'_> {
        ProfileContext {
            base_rate,
            ..*self.calendar
        }
    }
}

/// The classes (with regions: one per class and region of users) and the
/// class names as written.
pub fn build_classes(
    raw: IndexMap<String, RawClass>,
    scope: &Scope<'_>,
    c: &mut Checks,
) -> (Vec<ClassConfig>, Vec<String>) {
    let cp = scope.root.key("classes");
    let uses_shares = check_mix(&raw, &cp, scope, c);
    let mut share_total = 0.0;
    let class_names: Vec<String> = raw.keys().cloned().collect();
    let mut classes = Vec::with_capacity(raw.len());
    for (name, mut class) in raw {
        let path = cp.key(&name);
        check_name("class", &name, &path, c);
        // A closed class's "rate" is its users: what its multipliers and
        // profile scale (a replayed trace's absolute values are users).
        let think = closed_class(&mut class, &path, c);
        let process = arrival_process(&mut class, &path, think.is_some(), c);
        let rate = match (&think, class.users, &process) {
            (Some(_), Some(n), _) => Some(n as f64),
            (Some(_), None, _) => None,
            // A broken process has said why.
            (None, _, None) => None,
            (None, _, Some(p)) => p
                .own_rate()
                .or_else(|| class_rate(&class, &path, uses_shares, scope, &mut share_total, c)),
        };
        let wp = scope.root.key("workload");
        let profile_raw = class
            .profile
            .clone()
            .map(|p| (p, path.key("profile")))
            .or_else(|| {
                scope
                    .workload
                    .profile_raw
                    .clone()
                    .map(|p| (p, wp.key("profile")))
            });
        let route_raw = scope.expanded.is_some().then(|| class.route.clone());
        let profile = match class.profile.take() {
            Some(t) => {
                match profile::build_profile(t, &path.key("profile"), &scope.profile_ctx(rate)) {
                    Ok(p) => Some(p),
                    Err(ps) => {
                        c.0.extend(ps);
                        None
                    }
                }
            }
            None => scope.workload.profile.clone(),
        };
        let client = client_policy(&class, &path, c);
        let response_bytes = match &class.response_size {
            Some(s) => c
                .take(values::parse_size(s, &path.key("response_size")))
                .map(|b| b as f64),
            None => Some(0.0),
        };
        if class.retries > 0 && client.timeout.is_none() && !client.retry_on_error {
            c.push(path.key("retries"), "retries happen after a timeout or an error, but this class has no `timeout` and `retry_on_error = false`");
        }
        let program = match route::compile(
            class.route,
            &path.key("route"),
            &scope.tiers.configs,
            &scope.tiers.broken,
            &scope.tiers.default_cpu,
        ) {
            Ok(p) => Some(p),
            Err(ps) => {
                c.0.extend(ps);
                None
            }
        };
        // Applied after the profile is built: a replayed trace's absolute
        // rates scale too.
        let multiplier = scope.workload.multiplier
            * c.take(values::traffic_multiplier(
                class.multiplier,
                &path.key("multiplier"),
            ))
            .unwrap_or(1.0);
        let scaled = rate.map(|r| r * multiplier);
        let closed = think.map(|think| (scaled, think));
        if closed.is_none() {
            check_peak(&path, scaled, &profile, &profile_raw, scope, c);
        } else {
            check_users(&path, scaled, &profile, scope, c);
        }
        let Some((rate_per_s, profile, program, response_bytes)) = scaled
            .zip(profile)
            .zip(program)
            .zip(response_bytes)
            .map(|(((a, b), c), d)| (a, b, c, d))
        else {
            continue;
        };
        let population = match closed {
            Some((Some(users), Some(think))) => Some(Population { users, think }),
            Some(_) => continue,
            None => None,
        };
        let Some(process) = process else { continue };
        let process = match process {
            // The gaps shrink as the rate grows.
            Process::Renewal(gaps) => {
                if profile != RateProfile::Constant {
                    c.push(
                        path.key("arrivals").key("process"),
                        "a renewal process cannot follow a rate profile (thinning it would not leave a renewal process): give this class `profile = { kind = \"constant\" }`, or use process = \"poisson\" or \"batch\"",
                    );
                    continue;
                }
                Process::Renewal(gaps.scaled(1.0 / multiplier))
            }
            Process::Mmpp { rates, means_s } => Process::Mmpp {
                rates: rates.map(|r| r * multiplier),
                means_s,
            },
            p => p,
        };
        let class = ClassConfig {
            response_bytes,
            name,
            arrivals: Arrivals {
                // A closed class's bound is set once the platform is
                // whole (it needs every tier's demand).
                rate_per_s: if population.is_some() {
                    0.0
                } else {
                    rate_per_s
                },
                profile,
                closed: population,
                process,
            },
            client,
            program,
            region: None,
            priority: class.priority.unwrap_or(0),
        };
        match (scope.expanded, scope.geo, route_raw) {
            (Some(expanded), Some(g), Some(route)) => {
                let regional = Regional {
                    base_rate: rate.unwrap_or(rate_per_s),
                    class: &class,
                    path: &path,
                    profile_raw: profile_raw.as_ref(),
                    route,
                };
                regional.copies(expanded, g, scope, &mut classes, c);
            }
            _ => classes.push(class),
        }
    }
    if uses_shares && (share_total - 1.0).abs() > 1e-6 && c.is_empty() {
        c.push(
            cp.clone(),
            format!("the classes' shares must sum to 1 (they sum to {share_total})"),
        );
    }
    (classes, class_names)
}

/// Checks the mix as a whole; returns whether classes give `share`s of the
/// workload's rate.
fn check_mix(
    raw: &IndexMap<String, RawClass>,
    cp: &FieldPath,
    scope: &Scope<'_>,
    c: &mut Checks,
) -> bool {
    let wp = scope.root.key("workload");
    if raw.is_empty() {
        c.push(
            cp.clone(),
            "define at least one request class (the class mix is empty)",
        );
    }
    if raw.len() > limits::ENTRIES {
        c.push(
            cp.clone(),
            format!("at most {} classes (got {})", limits::ENTRIES, raw.len()),
        );
    }
    if raw.len() > u16::MAX as usize {
        c.push(cp.clone(), "too many classes");
    }
    let uses_shares = raw.values().any(|cl| cl.share.is_some());
    if uses_shares && scope.workload.rate.is_none() {
        c.push(
            wp.key("rate_per_s"),
            "classes give a `share` of the workload: set `workload.rate_per_s`, the total rate",
        );
    }
    if !uses_shares && scope.workload.rate.is_some() {
        c.push(
            wp.key("rate_per_s"),
            "`workload.rate_per_s` is shared among classes by their `share`, but no class has one",
        );
    }
    uses_shares
}

/// The class's arrival rate (`None` if broken or unknown); adds its share
/// to `share_total`.
fn class_rate(
    class: &RawClass,
    path: &FieldPath,
    uses_shares: bool,
    scope: &Scope<'_>,
    share_total: &mut f64,
    c: &mut Checks,
) -> Option<f64> {
    match (class.rate_per_s, class.share) {
        (Some(_), Some(_)) => {
            c.push(
                path.key("share"),
                "give a class either `rate_per_s` or `share`, not both",
            );
            None
        }
        (Some(_), None) if uses_shares => {
            c.push(
                path.key("rate_per_s"),
                "other classes give a `share` of the workload: give this one a `share` too",
            );
            None
        }
        (Some(r), None) => {
            if r > limits::RATE_PER_S {
                c.push(
                    path.key("rate_per_s"),
                    format!(
                        "at most {} requests per second (got {r})",
                        limits::RATE_PER_S
                    ),
                );
                None
            } else if r.is_finite() && r > 0.0 {
                Some(r)
            } else {
                c.push(path.key("rate_per_s"), format!("the arrival rate must be a number above zero, in requests per second (got {r})"));
                None
            }
        }
        (None, Some(s)) => {
            if s.is_finite() && s > 0.0 && s <= 1.0 {
                *share_total += s;
                scope.workload.rate.map(|w| w * s)
            } else {
                c.push(
                    path.key("share"),
                    format!("a share is a fraction above 0 and at most 1 (got {s})"),
                );
                None
            }
        }
        (None, None) => {
            c.push(path.clone(), "give the class an arrival rate: `rate_per_s`, or a `share` of `workload.rate_per_s`");
            None
        }
    }
}

/// A closed class's think time, if the class is closed (`users` or
/// `think` given; `None` inside when broken); checks that it gives no rate.
fn closed_class(class: &mut RawClass, path: &FieldPath, c: &mut Checks) -> Option<Option<Dist>> {
    if class.users.is_none() && class.think.is_none() {
        return None;
    }
    let mut ok = !own_rate(
        class,
        path,
        "a closed",
        "set by its users' answers and think times",
        c,
    );
    match class.users {
        None => {
            c.push(
                path.key("think"),
                "a think time makes a closed class: give its `users` too (or drop `think` for an open class with `rate_per_s`)",
            );
            ok = false;
        }
        Some(0) => {
            c.push(path.key("users"), "a closed class needs at least 1 user");
            ok = false;
        }
        Some(_) => {}
    }
    let think = match class.think.take() {
        None => {
            c.push(
                path.key("think"),
                "a closed class needs its users' think time, e.g. think = { dist = \"exponential\", mean = \"5s\" } (`{ dist = \"deterministic\", value = \"0s\" }` for none)",
            );
            None
        }
        Some(t) => c.take(values::build_dist(t, &path.key("think"))),
    };
    Some(think.filter(|_| ok))
}

/// The class's arrival process (`None` if broken); Poisson without an
/// `arrivals` table, and for a closed class (which may not have one).
fn arrival_process(
    class: &mut RawClass,
    path: &FieldPath,
    closed: bool,
    c: &mut Checks,
) -> Option<Process> {
    let Some(raw) = class.arrivals.take() else {
        return Some(Process::Poisson);
    };
    let ap = path.key("arrivals");
    if closed {
        c.push(
            ap.clone(),
            "a closed class's users set its pace (their think time): it has no arrival process",
        );
        return None;
    }
    let stray = |field: &str, given: bool, c: &mut Checks| {
        if given {
            c.push(
                ap.key(field),
                format!(
                    "`{field}` belongs to another process than \"{}\"",
                    raw.process
                ),
            );
        }
    };
    match raw.process.as_str() {
        "poisson" => {
            stray("interarrival", raw.interarrival.is_some(), c);
            stray("sizes", raw.sizes.is_some(), c);
            stray("states", raw.states.is_some(), c);
            Some(Process::Poisson)
        }
        "renewal" => {
            stray("sizes", raw.sizes.is_some(), c);
            stray("states", raw.states.is_some(), c);
            if own_rate(
                class,
                path,
                "a renewal",
                "1 / the mean of its `interarrival`",
                c,
            ) {
                return None;
            }
            let Some(t) = raw.interarrival else {
                c.push(
                    ap.clone(),
                    "a renewal process needs `interarrival`, the law of the gaps between requests, e.g. { dist = \"erlang\", k = 4, mean = \"20ms\" }",
                );
                return None;
            };
            let gaps = c.take(values::build_dist(t, &ap.key("interarrival")))?;
            let rate = 1.0 / gaps.mean();
            if rate > limits::RATE_PER_S {
                c.push(
                    ap.key("interarrival"),
                    format!(
                        "at most {} requests per second (a mean gap of {:e} s is {rate:.0})",
                        limits::RATE_PER_S,
                        gaps.mean()
                    ),
                );
                return None;
            }
            Some(Process::Renewal(gaps))
        }
        "batch" => {
            stray("interarrival", raw.interarrival.is_some(), c);
            stray("states", raw.states.is_some(), c);
            let Some(sizes) = raw.sizes else {
                c.push(
                    ap.clone(),
                    "a batch process needs `sizes`, e.g. [{ n = 1, p = 0.7 }, { n = 20, p = 0.3 }]",
                );
                return None;
            };
            let sp = ap.key("sizes");
            if sizes.is_empty() {
                c.push(sp.clone(), "give at least one size");
                return None;
            }
            c.take(limits::list(&sizes, limits::ENTRIES, &sp))?;
            let mut ok = true;
            let mut by_n: Vec<(u32, f64)> = Vec::with_capacity(sizes.len());
            for (i, s) in sizes.iter().enumerate() {
                if s.n == 0 || s.n > limits::BATCH {
                    c.push(
                        sp.index(i).key("n"),
                        format!(
                            "a batch holds 1 to {} requests (got {})",
                            limits::BATCH,
                            s.n
                        ),
                    );
                    ok = false;
                }
                if !(s.p.is_finite() && s.p > 0.0 && s.p <= 1.0) {
                    c.push(
                        sp.index(i).key("p"),
                        format!("a probability above 0 and at most 1 (got {})", s.p),
                    );
                    ok = false;
                }
                by_n.push((s.n, s.p));
            }
            let total: f64 = by_n.iter().map(|s| s.1).sum();
            if ok && (total - 1.0).abs() > 1e-9 {
                c.push(
                    sp.clone(),
                    format!("the sizes' probabilities must sum to 1 (they sum to {total})"),
                );
                ok = false;
            }
            if !ok {
                return None;
            }
            by_n.sort_by_key(|s| s.0);
            let mut cum = 0.0;
            let mut table: Vec<(u32, f64)> = by_n
                .into_iter()
                .map(|(n, p)| {
                    cum += p;
                    (n, cum)
                })
                .collect();
            // The last size catches every uniform draw, rounding aside.
            table.last_mut().expect("one size at least").1 = 1.0;
            Some(Process::Batch(table))
        }
        "mmpp" => {
            stray("interarrival", raw.interarrival.is_some(), c);
            stray("sizes", raw.sizes.is_some(), c);
            if own_rate(
                class,
                path,
                "an MMPP",
                "the time average of its states' rates",
                c,
            ) {
                return None;
            }
            let sp = ap.key("states");
            let Some(states) = raw.states else {
                c.push(
                    ap.clone(),
                    "an MMPP needs its two `states`, e.g. [{ rate_per_s = 300, mean = \"30s\" }, { rate_per_s = 20, mean = \"2m\" }]",
                );
                return None;
            };
            if states.len() != 2 {
                c.push(
                    sp,
                    format!("an MMPP here has exactly 2 states (got {})", states.len()),
                );
                return None;
            }
            let mut ok = true;
            for (i, st) in states.iter().enumerate() {
                if !(st.rate_per_s.is_finite()
                    && (0.0..=limits::RATE_PER_S).contains(&st.rate_per_s))
                {
                    c.push(
                        sp.index(i).key("rate_per_s"),
                        format!(
                            "a rate from 0 to {} requests per second (got {})",
                            limits::RATE_PER_S,
                            st.rate_per_s
                        ),
                    );
                    ok = false;
                }
                if st.mean.is_zero() {
                    c.push(
                        sp.index(i).key("mean"),
                        "a state lasts a mean time above zero",
                    );
                    ok = false;
                }
            }
            if ok && states.iter().all(|st| st.rate_per_s == 0.0) {
                c.push(sp, "at least one state must have a rate above 0");
                ok = false;
            }
            ok.then(|| Process::Mmpp {
                rates: [states[0].rate_per_s, states[1].rate_per_s],
                means_s: [states[0].mean.as_secs_f64(), states[1].mean.as_secs_f64()],
            })
        }
        other => {
            c.push(
                ap.key("process"),
                format!("unknown arrival process \"{other}\": one of \"poisson\", \"renewal\", \"batch\", \"mmpp\""),
            );
            None
        }
    }
}

/// Whether a class whose process sets its rate gives one too (said).
fn own_rate(class: &RawClass, path: &FieldPath, process: &str, why: &str, c: &mut Checks) -> bool {
    for (field, given) in [
        ("rate_per_s", class.rate_per_s.is_some()),
        ("share", class.share.is_some()),
    ] {
        if given {
            c.push(
                path.key(field),
                format!("{process} class's rate is {why}: it has no `{field}`"),
            );
            return true;
        }
    }
    false
}

/// A closed class's peak users within [`limits::USERS`].
fn check_users(
    path: &FieldPath,
    users: Option<f64>,
    profile: &Option<RateProfile>,
    scope: &Scope<'_>,
    c: &mut Checks,
) {
    let (Some(n), Some(p)) = (users, profile) else {
        return;
    };
    let peak = n * p.envelope(scope.calendar.horizon);
    if peak > limits::USERS {
        c.push(
            path.key("users"),
            format!(
                "the class peaks at {peak:.0} users; at most {} per class",
                limits::USERS
            ),
        );
    }
}

/// A class's peak rate (its rate times its profile's largest multiplier)
/// within [`limits::RATE_PER_S`]; reported at its profile, or its rate.
fn check_peak(
    path: &FieldPath,
    rate: Option<f64>,
    profile: &Option<RateProfile>,
    profile_raw: &Option<(toml::Value, FieldPath)>,
    scope: &Scope<'_>,
    c: &mut Checks,
) {
    let (Some(r), Some(p)) = (rate, profile) else {
        return;
    };
    let multiplier = p.envelope(scope.calendar.horizon);
    let peak = r * multiplier;
    if peak > limits::RATE_PER_S {
        c.push(
            profile_raw
                .as_ref()
                .map_or_else(|| path.key("rate_per_s"), |(_, at)| at.clone()),
            format!(
                "the class peaks at {peak:.0} requests per second ({r} × a multiplier of {multiplier}); at most {} per class",
                limits::RATE_PER_S
            ),
        );
    }
}

/// Timeout, retries and backoff of the class's clients.
fn client_policy(class: &RawClass, path: &FieldPath, c: &mut Checks) -> ClientPolicy {
    let mut client = ClientPolicy::default();
    if let Some(t) = class.timeout {
        if t.is_zero() {
            c.push(
                path.key("timeout"),
                "a timeout must be longer than zero (leave it out to wait forever)",
            );
        }
        client.timeout = Some(*t);
    }
    client.retries = class.retries;
    c.take(limits::at_most(
        class.retries,
        limits::RETRIES,
        &path.key("retries"),
    ));
    if let Some(r) = class.retry_on_error {
        client.retry_on_error = r;
    }
    if let Some(b) = &class.backoff {
        if let Some(base) = b.base {
            client.backoff_base = *base;
        }
        if let Some(max) = b.max {
            client.backoff_max = *max;
        }
        if let Some(j) = b.jitter
            && let Some(j) = c.take(values::fraction(j, &path.key("backoff").key("jitter")))
        {
            client.jitter = j;
        }
        if client.backoff_max < client.backoff_base {
            c.push(
                path.key("backoff").key("max"),
                "the backoff cap must not be below its base",
            );
        }
    }
    client
}

/// A valid class to copy into each region of its users.
struct Regional<'a> {
    /// The class's rate before its multipliers: the base of a replayed
    /// trace's absolute rates.
    base_rate: f64,
    class: &'a ClassConfig,
    path: &'a FieldPath,
    /// The class's profile as written (or the workload's), and where.
    profile_raw: Option<&'a (toml::Value, FieldPath)>,
    route: Vec<toml::Value>,
}

impl Regional<'_> {
    /// Pushes `NAME@REGION` per region: its share of the rate, the class's
    /// profile in the region's local time times the region's own, and the
    /// route compiled for users there.
    fn copies(
        &self,
        (tiers_x, cpu_x, _): &Expanded,
        g: &Geo,
        scope: &Scope<'_>,
        classes: &mut Vec<ClassConfig>,
        c: &mut Checks,
    ) {
        let rate_per_s = self.class.arrivals.rate_per_s;
        let geo_view = route::Regional {
            names: &g.names,
            regional: &g.regional,
            primary: g.primary,
            rtt: &g.rtt,
            user_rtt: &g.user_rtt,
            serves: &g.serves,
        };
        for (r, region) in g.names.iter().enumerate() {
            let ctx = ProfileContext {
                utc_offset_s: g.offsets_s[r],
                ..scope.profile_ctx(Some(self.base_rate))
            };
            let profile = self.profile(r, g, scope.root, &ctx, c);
            let regional_rate = rate_per_s * g.shares[r] * g.multipliers[r];
            let peak = regional_rate * profile.envelope(scope.calendar.horizon);
            if peak > limits::RATE_PER_S {
                c.push(
                    scope.root.key("regions").key(region).key("multiplier"),
                    format!(
                        "{}@{region} peaks at {peak:.0} requests per second; at most {} per class",
                        self.class.name,
                        limits::RATE_PER_S
                    ),
                );
            }
            let share = g.shares[r] * g.multipliers[r];
            let process = match &self.class.arrivals.process {
                Process::Renewal(gaps) if share > 0.0 && share.is_finite() => {
                    if profile != RateProfile::Constant {
                        c.push(
                            self.path.key("arrivals").key("process"),
                            format!("a renewal process cannot follow {region}'s rate profile (thinning it would not leave a renewal process): use process = \"poisson\" or \"batch\""),
                        );
                    }
                    // Each region's users: their share of the rate.
                    Process::Renewal(gaps.scaled(1.0 / share))
                }
                Process::Mmpp { rates, means_s } => Process::Mmpp {
                    rates: rates.map(|x| x * share),
                    means_s: *means_s,
                },
                p => p.clone(),
            };
            match route::compile_regional(
                self.route.clone(),
                &self.path.key("route"),
                tiers_x,
                cpu_x,
                &geo_view,
                r as u16,
            ) {
                Ok(program) => classes.push(ClassConfig {
                    response_bytes: self.class.response_bytes,
                    name: format!("{}@{region}", self.class.name),
                    arrivals: Arrivals {
                        rate_per_s: regional_rate,
                        profile,
                        // A region's users: its share of the class's.
                        closed: self.class.arrivals.closed.as_ref().map(|p| Population {
                            users: p.users * g.shares[r] * g.multipliers[r],
                            think: p.think.clone(),
                        }),
                        process,
                    },
                    client: self.class.client.clone(),
                    program,
                    region: Some(r as u16),
                    priority: self.class.priority,
                }),
                Err(ps) => c.0.extend(ps),
            }
        }
    }

    /// The class's profile times region `r`'s, in the region's local time.
    fn profile(
        &self,
        r: usize,
        g: &Geo,
        root: &FieldPath,
        ctx: &ProfileContext<'_>,
        c: &mut Checks,
    ) -> RateProfile {
        let mut parts = Vec::new();
        if let Some((raw_profile, ppath)) = self.profile_raw {
            match profile::build_profile(raw_profile.clone(), ppath, ctx) {
                Ok(p) => parts.push(p),
                Err(ps) => c.0.extend(ps),
            }
        }
        match g.profile(r, root, ctx) {
            Ok(Some(p)) => parts.push(p),
            Ok(None) => {}
            Err(ps) => c.0.extend(ps),
        }
        parts.retain(|p| *p != RateProfile::Constant);
        match parts.len() {
            0 => RateProfile::Constant,
            1 => parts.pop().expect("one"),
            _ => RateProfile::Product(parts),
        }
    }
}

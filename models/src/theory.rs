//! Exact results of queueing theory, against which the models are validated.
//!
//! Notation: arrival rate λ, service rate μ per server, `c` servers, offered
//! load a = λ/μ (in Erlangs), utilisation ρ = a/c. Times are in the unit of
//! 1/λ and 1/μ (seconds throughout capsim).

/// Erlang B: the blocking probability of M/M/c/c with offered load `a`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    // The recursion B(k) = a·B(k−1) / (k + a·B(k−1)) is stable for any c.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival to M/M/c waits (requires a < c).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < c as f64, "Erlang C needs a stable queue (a < c)");
    let b = erlang_b(c, a);
    let c = c as f64;
    c * b / (c - a * (1.0 - b))
}

/// M/M/c: exact figures of the FCFS multi-server queue.
#[derive(Clone, Copy, Debug)]
pub struct MMc {
    pub lambda: f64,
    pub mu: f64,
    pub c: u32,
}

impl MMc {
    pub fn new(lambda: f64, mu: f64, c: u32) -> Self {
        let q = MMc { lambda, mu, c };
        assert!(q.rho() < 1.0, "unstable queue: rho = {}", q.rho());
        q
    }

    pub fn offered_load(&self) -> f64 {
        self.lambda / self.mu
    }

    pub fn rho(&self) -> f64 {
        self.offered_load() / self.c as f64
    }

    /// P(W > 0).
    pub fn prob_wait(&self) -> f64 {
        erlang_c(self.c, self.offered_load())
    }

    /// E[W], the mean wait in queue.
    pub fn mean_wait(&self) -> f64 {
        self.prob_wait() / (self.c as f64 * self.mu - self.lambda)
    }

    /// E[T] = E[W] + 1/μ, the mean sojourn (response) time.
    pub fn mean_sojourn(&self) -> f64 {
        self.mean_wait() + 1.0 / self.mu
    }

    /// E[Lq] = λ·E[W] (Little).
    pub fn mean_queue_length(&self) -> f64 {
        self.lambda * self.mean_wait()
    }

    /// P(T > t) for the FCFS sojourn time. T = W + S with W = 0 w.p. 1 − C and
    /// W ~ Exp(r), r = cμ − λ, otherwise; S ~ Exp(μ) independent of W:
    /// P(T > t) = e^{−μt} + C·μ/(r − μ)·(e^{−μt} − e^{−rt})   (r ≠ μ),
    /// and e^{−μt}(1 + C·μ·t) when r = μ.
    pub fn sojourn_survival(&self, t: f64) -> f64 {
        let c = self.prob_wait();
        let r = self.c as f64 * self.mu - self.lambda;
        let mu = self.mu;
        let e_mu = (-mu * t).exp();
        if (r - mu).abs() < 1e-12 * mu {
            e_mu * (1.0 + c * mu * t)
        } else {
            e_mu + c * mu / (r - mu) * (e_mu - (-r * t).exp())
        }
    }

    /// The p-quantile of the sojourn time (bisection on the survival function).
    pub fn sojourn_quantile(&self, p: f64) -> f64 {
        quantile_from_survival(|t| self.sojourn_survival(t), p, self.mean_sojourn())
    }

    /// The p-quantile of the waiting time: 0 when p ≤ 1 − C, else
    /// ln(C / (1 − p)) / (cμ − λ).
    pub fn wait_quantile(&self, p: f64) -> f64 {
        let c = self.prob_wait();
        if p <= 1.0 - c {
            0.0
        } else {
            (c / (1.0 - p)).ln() / (self.c as f64 * self.mu - self.lambda)
        }
    }
}

/// Solves survival(t) = 1 − p for t by bisection; `scale` is a typical value
/// used to bracket the root.
fn quantile_from_survival(survival: impl Fn(f64) -> f64, p: f64, scale: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0);
    let target = 1.0 - p;
    let mut hi = scale.max(1e-12);
    while survival(hi) > target {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if survival(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// M/G/1 mean wait by Pollaczek–Khinchine: E[W] = λ·E[S²] / (2(1 − ρ)).
pub fn mg1_mean_wait(lambda: f64, mean_service: f64, second_moment_service: f64) -> f64 {
    let rho = lambda * mean_service;
    assert!(rho < 1.0, "unstable queue: rho = {rho}");
    lambda * second_moment_service / (2.0 * (1.0 - rho))
}

/// M/M/c/K: at most K customers in the system (c in service, K − c waiting);
/// arrivals finding it full are blocked.
#[derive(Clone, Debug)]
pub struct MMcK {
    pub lambda: f64,
    pub mu: f64,
    pub c: u32,
    pub k: u32,
    /// Stationary distribution of the number in system, p[0..=K].
    pub p: Vec<f64>,
}

impl MMcK {
    pub fn new(lambda: f64, mu: f64, c: u32, k: u32) -> Self {
        assert!(k >= c && c >= 1);
        let a = lambda / mu;
        // Unnormalised birth–death weights, built by ratios to avoid factorials.
        let mut w = Vec::with_capacity(k as usize + 1);
        w.push(1.0f64);
        for n in 1..=k {
            let servers = n.min(c) as f64;
            let prev = *w.last().expect("non-empty");
            w.push(prev * a / servers);
        }
        let total: f64 = w.iter().sum();
        let p = w.into_iter().map(|x| x / total).collect();
        MMcK {
            lambda,
            mu,
            c,
            k,
            p,
        }
    }

    /// Probability an arrival is blocked (PASTA: p_K).
    pub fn blocking(&self) -> f64 {
        self.p[self.k as usize]
    }

    /// Accepted (and completed) customers per unit time.
    pub fn throughput(&self) -> f64 {
        self.lambda * (1.0 - self.blocking())
    }

    /// E[number in system].
    pub fn mean_in_system(&self) -> f64 {
        self.p.iter().enumerate().map(|(n, p)| n as f64 * p).sum()
    }

    /// E[sojourn] of accepted customers (Little).
    pub fn mean_sojourn(&self) -> f64 {
        self.mean_in_system() / self.throughput()
    }

    /// Mean utilisation of a server.
    pub fn utilization(&self) -> f64 {
        self.throughput() / (self.mu * self.c as f64)
    }
}

/// Mean sojourn through a tandem (Jackson) network of M/M/c stations fed by
/// Poisson(λ): by Jackson's theorem each station behaves as an independent
/// M/M/c, so the mean end-to-end time is the sum of the stations' means.
pub fn tandem_mean_sojourn(lambda: f64, stations: &[(f64, u32)]) -> f64 {
    stations
        .iter()
        .map(|&(mu, c)| MMc::new(lambda, mu, c).mean_sojourn())
        .sum()
}

/// Exact Mean Value Analysis of a closed product-form network: `n` users
/// think for a mean `think_s` (a delay station: any distribution) and then
/// visit each station once with exponential FCFS service of mean
/// `demand_s` on `servers` identical servers. Multi-server stations are
/// load-dependent (rate `min(j, c) / demand` with j present), solved with
/// their marginal queue-length probabilities (Reiser and Lavenberg).
#[derive(Clone, Debug)]
pub struct Mva {
    /// Requests per second.
    pub throughput: f64,
    /// Mean response time (excluding think), seconds.
    pub response: f64,
    /// Per station: mean response time there (seconds), utilisation per server.
    pub stations: Vec<(f64, f64)>,
}

pub fn mva(stations: &[(f64, u32)], think_s: f64, n: u32) -> Mva {
    let k = stations.len();
    // p[s][j]: probability of j users at station s, for the population so far.
    let mut p: Vec<Vec<f64>> = vec![vec![1.0]; k];
    let mut out = Mva {
        throughput: 0.0,
        response: 0.0,
        stations: vec![(0.0, 0.0); k],
    };
    for m in 1..=n as usize {
        let rate = |s: usize, j: usize| (j.min(stations[s].1 as usize)) as f64 / stations[s].0;
        let r: Vec<f64> = (0..k)
            .map(|s| (1..=m).map(|j| j as f64 / rate(s, j) * p[s][j - 1]).sum())
            .collect();
        let x = m as f64 / (think_s + r.iter().sum::<f64>());
        for (s, ps) in p.iter_mut().enumerate() {
            let mut next = vec![0.0; m + 1];
            for j in 1..=m {
                next[j] = x / rate(s, j) * ps[j - 1];
            }
            next[0] = (1.0 - next[1..].iter().sum::<f64>()).max(0.0);
            *ps = next;
        }
        out = Mva {
            throughput: x,
            response: r.iter().sum(),
            stations: (0..k)
                .map(|s| (r[s], x * stations[s].0 / stations[s].1 as f64))
                .collect(),
        };
    }
    out
}

/// GI/M/1 (renewal arrivals, one exponential server of rate `mu`): σ, the
/// root in (0, 1) of `σ = A*(μ(1 − σ))` with `lst` the Laplace–Stieltjes
/// transform of the interarrival law; an arrival finds the server busy with
/// probability σ, and its time in system is exponential of rate μ(1 − σ).
/// By fixed-point iteration from 0, which rises to the smallest root when
/// ρ < 1.
pub fn gi_m1_sigma(lst: impl Fn(f64) -> f64, mu: f64) -> f64 {
    let mut sigma = 0.0f64;
    for _ in 0..100_000 {
        let next = lst(mu * (1.0 - sigma));
        if (next - sigma).abs() < 1e-15 {
            return next;
        }
        sigma = next;
    }
    sigma
}

/// M^X/M/1: batches at Poisson epochs of rate `batch_rate`, sizes with mean
/// `e_x` and second moment `e_x2`, one exponential server of rate `mu`. The
/// mean number in system, `L = ρ (E[X²]/E[X] + 1) / (2 (1 − ρ))` with
/// `ρ = batch_rate·E[X]/μ`; a request's mean time in system is `L / (batch_rate·E[X])`.
pub fn mx_m1_mean_in_system(batch_rate: f64, e_x: f64, e_x2: f64, mu: f64) -> f64 {
    let rho = batch_rate * e_x / mu;
    rho * (e_x2 / e_x + 1.0) / (2.0 * (1.0 - rho))
}

/// A fixed-window rate limit of `limit` calls per window, offered Poisson
/// calls with mean `mean_per_window` per window: the mean number accepted
/// per window, E[min(N, limit)] with N ~ Poisson(mean_per_window). Windows
/// are independent (Poisson increments), so this is exact.
pub fn fixed_window_accepted(mean_per_window: f64, limit: u32) -> f64 {
    // E[min(N, L)] = L − Σ_{k<L} (L − k)·P(N = k); P(N = k) by recurrence in
    // log space, so a large mean does not underflow e^(−λ).
    let l = f64::from(limit);
    let mut log_p = -mean_per_window;
    let mut short = 0.0;
    for k in 0..limit {
        if k > 0 {
            log_p += mean_per_window.ln() - f64::from(k).ln();
        }
        short += (l - f64::from(k)) * log_p.exp();
    }
    l - short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn gi_m1_and_batches_reduce_to_mm1() {
        // Poisson arrivals: A*(s) = λ/(λ+s), so σ = ρ.
        let (l, mu) = (0.7, 1.0);
        assert!(close(gi_m1_sigma(|s| l / (l + s), mu), 0.7, 1e-9));
        // D/M/1 at ρ = 0.5: σ = e^(−2(1−σ)), σ ≈ 0.20319 (tables).
        let sigma = gi_m1_sigma(|s| (-2.0 * s).exp(), 1.0);
        assert!(close(sigma, 0.203188, 1e-5), "{sigma}");
        // Batches of one: L = ρ/(1−ρ).
        assert!(close(
            mx_m1_mean_in_system(0.7, 1.0, 1.0, 1.0),
            0.7 / 0.3,
            1e-12
        ));
    }

    #[test]
    fn mva_against_hand_worked_and_closed_forms() {
        // Two single servers (10 ms, 20 ms), think 100 ms, 10 users: by
        // hand (the recursion over n = 1..10) X = 47.7622/s, R = 109.37 ms.
        let m = mva(&[(0.01, 1), (0.02, 1)], 0.1, 10);
        assert!(close(m.throughput, 47.7622, 1e-5), "{m:?}");
        assert!(close(m.response, 0.10937, 1e-4), "{m:?}");
        // The machine-repairman model (one server, N users): X = (1 − p0)/D,
        // p0 = 1 / Σ_k N!/(N−k)! (D/Z)^k.
        let (d, z, n) = (0.05f64, 0.4f64, 12u32);
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..=n {
            term *= (n - k + 1) as f64 * d / z;
            sum += term;
        }
        let m = mva(&[(d, 1)], z, n);
        assert!(close(m.throughput, (1.0 - 1.0 / sum) / d, 1e-9), "{m:?}");
        // As many servers as users: nobody waits.
        let m = mva(&[(0.05, 8), (0.02, 1)], 0.3, 8);
        assert!(close(m.stations[0].0, 0.05, 1e-9), "{m:?}");
        // Interactive response-time law, by construction: R = N/X − Z.
        assert!(close(m.response, 8.0 / m.throughput - 0.3, 1e-9));
    }

    #[test]
    fn mm1_closed_forms() {
        // M/M/1 with ρ = 0.8: P(wait) = ρ, E[W] = ρ/(μ−λ), E[T] = 1/(μ−λ),
        // T ~ Exp(μ − λ).
        let q = MMc::new(0.8, 1.0, 1);
        assert!(close(q.prob_wait(), 0.8, 1e-12));
        assert!(close(q.mean_wait(), 4.0, 1e-12));
        assert!(close(q.mean_sojourn(), 5.0, 1e-12));
        let p99 = -(0.01f64).ln() / 0.2;
        assert!(close(q.sojourn_quantile(0.99), p99, 1e-9));
        assert!(close(q.sojourn_survival(3.0), (-0.6f64).exp(), 1e-12));
    }

    #[test]
    fn erlang_c_textbook_value() {
        // c = 10, a = 9 (the reference M/M/c), from the factorial form
        // C = (a^c/c!)·c/(c−a) / (Σ_{k<c} a^k/k! + (a^c/c!)·c/(c−a)).
        let c = erlang_c(10, 9.0);
        assert!(close(c, 0.668_731_524_107_697, 1e-12), "{c}");
        // Erlang B for c = 1 is a/(1+a).
        assert!(close(erlang_b(1, 3.0), 0.75, 1e-12));
    }

    #[test]
    fn sojourn_distribution_is_consistent_with_the_mean() {
        // ∫ P(T > t) dt = E[T]; integrate numerically (Simpson).
        let q = MMc::new(9.0, 1.0, 10);
        let (n, h) = (200_000, 1e-3);
        let mut s = q.sojourn_survival(0.0) + q.sojourn_survival(n as f64 * h);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            s += w * q.sojourn_survival(i as f64 * h);
        }
        let integral = s * h / 3.0;
        assert!(
            close(integral, q.mean_sojourn(), 1e-6),
            "{integral} vs {}",
            q.mean_sojourn()
        );
        // r = μ special case joins continuously.
        let q = MMc::new(1.0, 1.0, 2); // r = 2 − 1 = 1 = μ
        let a = q.sojourn_survival(1.3);
        let near = MMc::new(1.0 + 1e-7, 1.0, 2).sojourn_survival(1.3);
        assert!(close(a, near, 1e-5));
    }

    #[test]
    fn pk_reduces_to_mm1_and_md1() {
        // Exponential service: E[S²] = 2/μ².
        assert!(close(mg1_mean_wait(0.8, 1.0, 2.0), 4.0, 1e-12));
        // Deterministic: half the M/M/1 wait.
        assert!(close(mg1_mean_wait(0.8, 1.0, 1.0), 2.0, 1e-12));
    }

    #[test]
    fn mmck_limits() {
        // K = c is Erlang B.
        let q = MMcK::new(3.0, 1.0, 4, 4);
        assert!(close(q.blocking(), erlang_b(4, 3.0), 1e-12));
        // M/M/1/K with ρ = 1: uniform over 0..=K.
        let q = MMcK::new(1.0, 1.0, 1, 4);
        assert!(close(q.blocking(), 0.2, 1e-12));
        // Large K approaches M/M/c.
        let q = MMcK::new(9.0, 1.0, 10, 2_000);
        assert!(q.blocking() < 1e-12);
        assert!(close(
            q.mean_sojourn(),
            MMc::new(9.0, 1.0, 10).mean_sojourn(),
            1e-9
        ));
    }

    #[test]
    fn fixed_window_limit_at_its_extremes() {
        // One call per window: accepted iff at least one came.
        let l = 3.0_f64;
        assert!((fixed_window_accepted(l, 1) - (1.0 - (-l).exp())).abs() < 1e-12);
        // A limit far above the load accepts everything.
        assert!((fixed_window_accepted(110.0, 1000) - 110.0).abs() < 1e-9);
    }
}

/// Non-preemptive priorities at one server, Poisson arrivals (Cobham, 1954):
/// the mean wait in queue of each class. `classes` are `(λ_k, E[S_k], E[S_k²])`
/// from the highest priority down; with `W0 = Σ λ_i E[S_i²] / 2` and
/// `σ_k = Σ_{i ≤ k} λ_i E[S_i]`, class k waits `W0 / ((1 − σ_{k−1})(1 − σ_k))`.
pub fn cobham_waits(classes: &[(f64, f64, f64)]) -> Vec<f64> {
    let w0: f64 = classes.iter().map(|&(l, _, s2)| l * s2 / 2.0).sum();
    let mut sigma = 0.0;
    classes
        .iter()
        .map(|&(l, s, _)| {
            let before = sigma;
            sigma += l * s;
            w0 / ((1.0 - before) * (1.0 - sigma))
        })
        .collect()
}

/// Erlang-A (M/M/c+M): Poisson arrivals of rate `lambda`, `c` exponential
/// servers of rate `mu`, and callers who leave the queue after an
/// exponential patience of rate `theta`.
#[derive(Clone, Copy, Debug)]
pub struct ErlangA {
    /// Share of callers who leave before service.
    pub abandon: f64,
    /// Mean wait in queue over all callers (served or not), seconds.
    pub mean_wait: f64,
    /// Share of callers who wait at all.
    pub prob_wait: f64,
}

/// The birth–death chain of Erlang-A, truncated where its terms vanish:
/// `abandon = θ E[(N − c)⁺] / λ` and `mean_wait = E[(N − c)⁺] / λ` (Little).
pub fn erlang_a(lambda: f64, mu: f64, c: u32, theta: f64) -> ErlangA {
    // Unnormalised π_n in log space: π_{n+1}/π_n = λ / death(n + 1).
    let death = |n: u32| f64::from(n.min(c)) * mu + f64::from(n.saturating_sub(c)) * theta;
    let mut log_p = vec![0.0f64];
    let mut n = 0u32;
    loop {
        n += 1;
        let next = log_p[log_p.len() - 1] + lambda.ln() - death(n).ln();
        log_p.push(next);
        if n > c && next < log_p.iter().cloned().fold(f64::MIN, f64::max) - 50.0 {
            break;
        }
    }
    let top = log_p.iter().cloned().fold(f64::MIN, f64::max);
    let p: Vec<f64> = log_p.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = p.iter().sum();
    let queue: f64 = p
        .iter()
        .enumerate()
        .map(|(n, pn)| pn * (n as f64 - f64::from(c)).max(0.0))
        .sum::<f64>()
        / total;
    // PASTA: an arrival waits when it finds all servers busy.
    let busy: f64 = p.iter().skip(c as usize).sum::<f64>() / total;
    ErlangA {
        abandon: theta * queue / lambda,
        mean_wait: queue / lambda,
        prob_wait: busy,
    }
}

/// M/M/1+D: one exponential server of rate `mu`, Poisson arrivals of rate
/// `lambda`, and a job that has waited `d` seconds without starting leaves.
/// Served FCFS, a job leaves exactly when the work ahead of it on arrival
/// (of the jobs that will be served) exceeds `d`; that work has an atom
/// `π0` at 0, density `λ π0 e^{−(μ−λ)x}` below `d` and `f(d) e^{−μ(x−d)}`
/// above, so the share of jobs that leave is `π0 (λ/μ) e^{−(μ−λ)d}`.
pub fn mm1_deadline_loss(lambda: f64, mu: f64, d: f64) -> f64 {
    let gap = mu - lambda;
    let tail = (-gap * d).exp();
    let below = if gap.abs() < 1e-12 {
        lambda * d
    } else {
        lambda / gap * (1.0 - tail)
    };
    let pi0 = 1.0 / (1.0 + below + lambda / mu * tail);
    pi0 * lambda / mu * tail
}

//! One-sided Mann-Kendall trend test for a *decreasing* trend.
//!
//! Safety scores are integers on a 0-10 scale, so a series usually has many
//! ties. Both the variance and the exact small-sample distribution therefore
//! take ties into account, not only the untied textbook case.
//!
//! References:
//! - Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13.
//! - Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. Griffin.
//!   Source of S, of its null variance and of the tie correction term.
//! - Hipel, K. W. & McLeod, A. I. (1994). *Time Series Modelling of Water
//!   Resources and Environmental Systems*, ch. 23. Gives the tie-corrected
//!   variance and the continuity-corrected normal approximation in the form
//!   used here.
//! - MacMahon, P. A. (1916). *Combinatory Analysis*, vol. 1. The number of
//!   inversions in permutations of a multiset follows the q-multinomial
//!   distribution. The exact distribution below builds on this.

use statrs::distribution::{ContinuousCDF, Normal};

/// Largest series length for which the exact null distribution is used. Up to
/// here the normal approximation is too coarse for a one-sided p-value
/// (Kendall 1975 tabulates exact values up to n = 10 for this reason). The
/// exact computation itself is cheap well beyond this length.
const EXACT_MAX_N: usize = 10;

/// Outcome of a one-sided Mann-Kendall test for a decreasing trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MannKendall {
    /// Kendall's S = sum over i<j of sign(x_j - x_i). Negative for a decrease.
    pub(crate) s: i64,
    /// Variance of S under H0 (no trend), with the tie correction.
    pub(crate) var_s: f64,
    /// P(S' <= S) under H0: one-sided p-value against "decreasing".
    pub(crate) p_value: f64,
    /// `true` when `p_value` comes from the exact permutation distribution,
    /// `false` when it comes from the normal approximation.
    pub(crate) exact: bool,
}

/// `values` in time order. Returns None when fewer than 3 values (no test possible).
///
/// Also returns None when any value is NaN: NaN has no order, so S is not
/// defined.
pub(crate) fn mann_kendall_decreasing(values: &[f64]) -> Option<MannKendall> {
    let n = values.len();
    if n < 3 || values.iter().any(|v| v.is_nan()) {
        return None;
    }

    let s = kendall_s(values);
    let ties = tie_group_sizes(values);
    let var_s = variance_s(n, &ties);

    let (p_value, exact) = if n <= EXACT_MAX_N {
        (exact_p_value(&ties, s), true)
    } else {
        (normal_p_value(s, var_s), false)
    };

    Some(MannKendall {
        s,
        var_s,
        p_value,
        exact,
    })
}

/// S from its definition. O(n^2) is fine for the short series zicht scores.
pub(crate) fn kendall_s(values: &[f64]) -> i64 {
    let mut s = 0i64;
    for (i, &xi) in values.iter().enumerate() {
        for &xj in &values[i + 1..] {
            // Tied pairs add 0: sign(0) = 0.
            s += i64::from(xj > xi) - i64::from(xj < xi);
        }
    }
    s
}

/// Sizes of the groups of equal values, in ascending order of value
/// (singletons included). Callers rule out NaN first.
fn tie_group_sizes(values: &[f64]) -> Vec<usize> {
    let mut sorted = values.to_vec();
    // total_cmp puts -0.0 directly before 0.0. Grouping with `==` then merges
    // them, just as `kendall_s` treats them as tied.
    sorted.sort_by(f64::total_cmp);
    sorted.chunk_by(|a, b| a == b).map(<[f64]>::len).collect()
}

/// Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18 (Kendall 1975;
/// Hipel & McLeod 1994). A group of t tied values removes t(t-1)/2 pairs from
/// S that would otherwise each add +/-1. The correction takes out their share
/// of the variance. Without this, frequent ties on a 0-10 scale would
/// overstate Var(S) and make the test too conservative.
fn variance_s(n: usize, ties: &[usize]) -> f64 {
    // i128: n(n-1)(2n+5) grows like 2n^3 and would overflow i64 near n = 1.6e6.
    let term = |t: usize| {
        let t = t as i128;
        t * (t - 1) * (2 * t + 5)
    };
    let numerator = term(n) - ties.iter().map(|&t| term(t)).sum::<i128>();
    numerator as f64 / 18.0
}

/// Exact P(S' <= S) under H0 for the observed multiset of values.
///
/// Under H0 every distinct arrangement of the observed values in time is
/// equally likely. The p-value conditions on the tie pattern that was
/// observed. Enumerating the arrangements would cost up to 10! = 3,628,800
/// steps. The whole distribution comes instead from a small dynamic
/// programme over a statistic that fixes S, as follows.
///
/// Let P = number of pairs i<j with x_j > x_i and Q = the number with
/// x_j < x_i. For any arrangement, P + Q = U, the count of untied pairs
/// (n(n-1)/2 minus t(t-1)/2 per tie group). So S = P - Q = 2P - U, and
/// S' <= S  <=>  P' <= P. Only the distribution of P is needed.
///
/// Build every distinct arrangement by merging the tie groups in ascending
/// order of value. Each new group holds t equal values that exceed
/// everything already placed. Merging them into the m values placed so far
/// leaves the earlier values in their relative order, so their pairs keep
/// their contribution. Pairs within the new group are ties and add nothing.
/// A pair of an old value and a new one counts towards P exactly when the old
/// value comes first. So the merge adds, for each new value, the number of
/// old values before it. The added amount depends only on the interleaving,
/// not on how the old values were arranged. Each final arrangement arises from
/// exactly one sequence of interleavings: remove the largest group to recover
/// the previous step. So the distribution of P is the convolution, over the
/// groups, of the distributions of what each interleaving adds. (This is the
/// q-multinomial coefficient of MacMahon 1916.) Without ties every group has
/// size 1 and this reduces to the usual insertion recursion, giving the
/// Mahonian numbers.
///
/// Cost: at most a few thousand integer additions for n = 10.
fn exact_p_value(ties: &[usize], s: i64) -> f64 {
    // dist[k] = number of distinct arrangements of the groups merged so far
    // with P = k.
    let mut dist: Vec<u64> = vec![1];
    let mut placed = 0usize;
    for &t in ties {
        dist = convolve(&dist, &interleavings_by_added_pairs(placed, t));
        placed += t;
    }

    let n = placed;
    let untied = n * (n - 1) / 2 - ties.iter().map(|&t| t * (t - 1) / 2).sum::<usize>();
    // S and U have the same parity (S = 2P - U), so the division is exact.
    let observed_p = (s + untied as i64) / 2;
    debug_assert!(observed_p >= 0 && (observed_p as usize) < dist.len());

    let total: u64 = dist.iter().sum();
    let at_most: u64 = dist.iter().take(observed_p as usize + 1).sum();
    at_most as f64 / total as f64
}

/// Ways to interleave `t` equal new values with `m` already-placed smaller
/// values, indexed by k = sum over new values of the old values before them.
/// The lattice-path count of C(m+t, t) merges, split by k.
fn interleavings_by_added_pairs(m: usize, t: usize) -> Vec<u64> {
    let len = m * t + 1;
    // ways[o][f][k]: merges of the first o old and f new values, with sum k.
    let mut ways = vec![vec![vec![0u64; len]; t + 1]; m + 1];
    ways[0][0][0] = 1;
    for o in 0..=m {
        for f in 0..=t {
            if o == 0 && f == 0 {
                continue;
            }
            let mut cell = vec![0u64; len];
            if o > 0 {
                // Last merged value is old: the sum is unchanged.
                for (c, &w) in cell.iter_mut().zip(&ways[o - 1][f]) {
                    *c += w;
                }
            }
            if f > 0 {
                // Last merged value is new: all `o` old values precede it.
                for (c, &w) in cell[o..].iter_mut().zip(&ways[o][f - 1]) {
                    *c += w;
                }
            }
            ways[o][f] = cell;
        }
    }
    ways.swap_remove(m).swap_remove(t)
}

fn convolve(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = vec![0u64; a.len() + b.len() - 1];
    for (i, &x) in a.iter().enumerate() {
        if x == 0 {
            continue;
        }
        for (j, &y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// Normal approximation with continuity correction (Kendall 1975; Hipel &
/// McLeod 1994). Without ties S moves in steps of 2, so P(S' <= S) is read at
/// S + 1 (half a step further into the upper tail). The mirror-image
/// correction S - 1 keeps positive S symmetric, and S = 0 maps to Z = 0.
fn normal_p_value(s: i64, var_s: f64) -> f64 {
    // Var(S) = 0 only when all values are equal. Then S = 0 is certain and
    // gives no evidence of a decrease.
    if var_s <= 0.0 {
        return 1.0;
    }
    let sd = var_s.sqrt();
    let z = match s.cmp(&0) {
        std::cmp::Ordering::Less => (s + 1) as f64 / sd,
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Greater => (s - 1) as f64 / sd,
    };
    Normal::standard().cdf(z)
}

/// Theil-Sen slope of `(x, y)` points: the median of the slopes between all pairs with different
/// x (Sen 1968). Robust to a single outlying score, unlike least squares. None without such a pair.
pub(crate) fn theil_sen_slope(points: &[(f64, f64)]) -> Option<f64> {
    let mut slopes: Vec<f64> = Vec::new();
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            if b.0 != a.0 {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    if slopes.is_empty() || slopes.iter().any(|s| s.is_nan()) {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let n = slopes.len();
    Some(if n % 2 == 1 {
        slopes[n / 2]
    } else {
        (slopes[n / 2 - 1] + slopes[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected}, got {actual} (tolerance {tol})"
        );
    }

    /// S straight from the definition, independent of the module's code.
    fn brute_s(x: &[f64]) -> i64 {
        let mut s = 0;
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                if x[j] > x[i] {
                    s += 1;
                } else if x[j] < x[i] {
                    s -= 1;
                }
            }
        }
        s
    }

    /// Calls `visit` on all n! orderings of `items` (Heap's algorithm). Tied
    /// values are treated as distinguishable, so every distinct arrangement of
    /// a multiset appears prod(t!) times. The fraction with S' <= S is still
    /// that of the distinct arrangements.
    fn for_each_permutation(items: &mut [f64], k: usize, visit: &mut dyn FnMut(&[f64])) {
        if k <= 1 {
            visit(items);
            return;
        }
        for i in 0..k - 1 {
            for_each_permutation(items, k - 1, visit);
            if k.is_multiple_of(2) {
                items.swap(i, k - 1);
            } else {
                items.swap(0, k - 1);
            }
        }
        for_each_permutation(items, k - 1, visit);
    }

    /// P(S' <= s) over all n! permutations of `values`, by brute force.
    fn brute_force_p(values: &[f64], s: i64) -> f64 {
        let mut items = values.to_vec();
        let (mut hits, mut total) = (0u64, 0u64);
        let k = items.len();
        for_each_permutation(&mut items, k, &mut |perm| {
            total += 1;
            if brute_s(perm) <= s {
                hits += 1;
            }
        });
        hits as f64 / total as f64
    }

    #[test]
    fn fewer_than_three_values_gives_none() {
        assert_eq!(mann_kendall_decreasing(&[]), None);
        assert_eq!(mann_kendall_decreasing(&[3.0]), None);
        assert_eq!(mann_kendall_decreasing(&[3.0, 1.0]), None);
        assert!(mann_kendall_decreasing(&[3.0, 2.0, 1.0]).is_some());
    }

    #[test]
    fn nan_gives_none() {
        assert_eq!(mann_kendall_decreasing(&[3.0, f64::NAN, 1.0]), None);
    }

    #[test]
    fn strictly_decreasing_n5() {
        // All 10 pairs are decreasing: S = -10.
        // Var = 5*4*15/18 = 300/18 = 16.666...
        // Only 1 of the 5! = 120 orderings reaches S = -10: p = 1/120.
        let r = mann_kendall_decreasing(&[5.0, 4.0, 3.0, 2.0, 1.0]).unwrap();
        assert_eq!(r.s, -10);
        assert_close(r.var_s, 300.0 / 18.0, 1e-12);
        assert_close(r.p_value, 1.0 / 120.0, 1e-15);
        assert!(r.exact);
    }

    #[test]
    fn ties_n5_fully_ordered() {
        // x = [6,6,5,5,4]
        // Pairs (i,j) -> sign(x_j - x_i):
        //   (1,2) 6,6 ->  0   (1,3) 6,5 -> -1   (1,4) 6,5 -> -1   (1,5) 6,4 -> -1
        //   (2,3) 6,5 -> -1   (2,4) 6,5 -> -1   (2,5) 6,4 -> -1
        //   (3,4) 5,5 ->  0   (3,5) 5,4 -> -1
        //   (4,5) 5,4 -> -1
        // S = -8 (8 untied pairs, all decreasing).
        // Tie groups: {6,6} t=2, {5,5} t=2, {4} t=1.
        // Var = [5*4*15 - 2*1*9 - 2*1*9 - 0] / 18 = (300 - 36)/18 = 264/18 = 44/3.
        // Distinct arrangements: 5!/(2!2!1!) = 120/4 = 30.
        // S' <= -8 needs all 8 untied pairs decreasing, which only 66554 does:
        // count 1, p = 1/30.
        let r = mann_kendall_decreasing(&[6.0, 6.0, 5.0, 5.0, 4.0]).unwrap();
        assert_eq!(r.s, -8);
        assert_close(r.var_s, 44.0 / 3.0, 1e-12);
        assert_close(r.p_value, 1.0 / 30.0, 1e-15);
        assert!(r.exact);
    }

    #[test]
    fn ties_n5_one_pair_out_of_order() {
        // x = [6,6,5,4,5] (same multiset as above, so same Var = 44/3 and
        // same 30 distinct arrangements).
        // Pairs: (1,2) 0; (1,3) (1,4) (1,5) (2,3) (2,4) (2,5) -1 each (6 > 5,4,5);
        //        (3,4) 5,4 -> -1; (3,5) 5,5 -> 0; (4,5) 4,5 -> +1.
        // S = -7 + 1 = -6.
        // S' = (#increasing) - (#decreasing) among the 8 untied pairs, so
        // S' <= -6 means at most 1 increasing pair. Listing them:
        //   0 increasing: 66554.
        //   1 increasing: swap one adjacent unequal pair of 66554:
        //                 65654 (positions 2,3) and 66545 (positions 4,5).
        //   (Swapping positions 1,2 or 3,4 swaps equal values and changes nothing.)
        // Count 3 of 30: p = 3/30 = 0.1.
        let r = mann_kendall_decreasing(&[6.0, 6.0, 5.0, 4.0, 5.0]).unwrap();
        assert_eq!(r.s, -6);
        assert_close(r.var_s, 44.0 / 3.0, 1e-12);
        assert_close(r.p_value, 3.0 / 30.0, 1e-15);
        assert!(r.exact);
    }

    #[test]
    fn increasing_series_gives_p_near_one() {
        // Exact, n=5: S = +10 is the maximum, so P(S' <= 10) = 1.
        let r = mann_kendall_decreasing(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(r.s, 10);
        assert_close(r.p_value, 1.0, 1e-15);

        // Exact, with ties: [2,2,3,4,4] gives S = +8 (8 untied pairs, all
        // increasing), also the maximum: p = 1.
        let r = mann_kendall_decreasing(&[2.0, 2.0, 3.0, 4.0, 4.0]).unwrap();
        assert_eq!(r.s, 8);
        assert_close(r.p_value, 1.0, 1e-15);

        // Normal, n=12, 0..=11: S = 66, Var = 12*11*29/18 = 3828/18 = 212.67,
        // Z = 65/14.583 = 4.457, Phi(Z) = 1 - 4.2e-6.
        let xs: Vec<f64> = (0..12).map(f64::from).collect();
        let r = mann_kendall_decreasing(&xs).unwrap();
        assert_eq!(r.s, 66);
        assert!(!r.exact);
        assert!(r.p_value > 0.99999 && r.p_value <= 1.0, "{}", r.p_value);
    }

    #[test]
    fn constant_series_gives_p_one() {
        // Exact path: the only arrangement has S = 0, so P(S' <= 0) = 1.
        // Var = [5*4*15 - 5*4*15]/18 = 0.
        let r = mann_kendall_decreasing(&[7.0; 5]).unwrap();
        assert_eq!(r.s, 0);
        assert_eq!(r.var_s, 0.0);
        assert_close(r.p_value, 1.0, 1e-15);
        assert!(r.exact);

        // Normal path: Var = 0 is handled explicitly as p = 1.
        let r = mann_kendall_decreasing(&[7.0; 12]).unwrap();
        assert_eq!(r.s, 0);
        assert_eq!(r.var_s, 0.0);
        assert_eq!(r.p_value, 1.0);
        assert!(!r.exact);
    }

    #[test]
    fn normal_approximation_n12_with_ties() {
        // x = [7,8,6,7,7,8,5,6,7,6,5,6], n = 12.
        // Per i: (#later x_j > x_i, #later x_j < x_i)
        //   i=1  7: (2,6)   i=2  8: (0,9)   i=3  6: (4,2)   i=4  7: (1,5)
        //   i=5  7: (1,5)   i=6  8: (0,6)   i=7  5: (4,0)   i=8  6: (1,1)
        //   i=9  7: (0,3)   i=10 6: (0,1)   i=11 5: (1,0)   i=12 6: (0,0)
        // Sum: 14 increasing, 38 decreasing -> S = 14 - 38 = -24.
        // Tie groups: 5 x2, 6 x4, 7 x4, 8 x2.
        //   n-term: 12*11*29 = 3828
        //   t=4: 4*3*13 = 156 (twice), t=2: 2*1*9 = 18 (twice) -> 348
        //   Var = (3828 - 348)/18 = 3480/18 = 580/3 = 193.333...
        // S < 0: Z = (S+1)/sqrt(Var) = -23/sqrt(193.333...) = -23/13.904436
        //          = -1.6541484
        // Phi(-1.6541484) = 0.5*erfc(1.6541484/sqrt 2) = 0.0490487
        //   (erfc evaluated independently: Python math.erfc gives
        //    0.04904868304447187).
        let x = [7.0, 8.0, 6.0, 7.0, 7.0, 8.0, 5.0, 6.0, 7.0, 6.0, 5.0, 6.0];
        let r = mann_kendall_decreasing(&x).unwrap();
        assert_eq!(r.s, -24);
        assert_close(r.var_s, 580.0 / 3.0, 1e-9);
        assert!(!r.exact);
        let z = -23.0 / (580.0f64 / 3.0).sqrt();
        assert_close(z, -1.654_148_390_124_575, 1e-12);
        assert_close(r.p_value, 0.049_048_683_044_471_87, 1e-6);
    }

    #[test]
    fn normal_approximation_n12_strong_decrease() {
        // x = [8,9,7,8,6,7,7,5,6,4,5,3], n = 12.
        // Per i: (#later greater, #later smaller)
        //   8:(1,9) 9:(0,10) 7:(1,6) 8:(0,8) 6:(2,4) 7:(0,5) 7:(0,5)
        //   5:(1,2) 6:(0,3)  4:(1,1) 5:(0,1) 3:(0,0)
        // S = 6 - 54 = -48.
        // Tie groups: 7 x3 (3*2*11 = 66), 5/6/8 x2 (18 each = 54), 3/4/9 x1 (0).
        // Var = (3828 - 120)/18 = 3708/18 = 206.
        // Z = -47/sqrt(206) = -47/14.352700 = -3.2746452
        // Phi(Z) = 0.000528974 (Python math.erfc: 0.0005289738348874598).
        let x = [8.0, 9.0, 7.0, 8.0, 6.0, 7.0, 7.0, 5.0, 6.0, 4.0, 5.0, 3.0];
        let r = mann_kendall_decreasing(&x).unwrap();
        assert_eq!(r.s, -48);
        assert_close(r.var_s, 206.0, 1e-9);
        assert_close(r.p_value, 0.000_528_973_834_887_459_8, 1e-6);
        assert!(!r.exact);
    }

    #[test]
    fn boundary_between_exact_and_normal() {
        let ten: Vec<f64> = (0..10).rev().map(f64::from).collect();
        let r = mann_kendall_decreasing(&ten).unwrap();
        assert!(r.exact);
        // Strictly decreasing, n=10: 1 of 10! = 3,628,800 orderings.
        assert_close(r.p_value, 1.0 / 3_628_800.0, 1e-18);

        let eleven: Vec<f64> = (0..11).rev().map(f64::from).collect();
        assert!(!mann_kendall_decreasing(&eleven).unwrap().exact);
    }

    #[test]
    fn exact_matches_brute_force_without_ties() {
        // Every permutation of 1..=n is used as the observed series, n = 3..=7.
        // The brute-force null distribution of S comes once per n from all n!
        // permutations.
        for n in 3..=7usize {
            let base: Vec<f64> = (1..=n).map(|v| v as f64).collect();
            let max_s = (n * (n - 1) / 2) as i64;
            let mut hist = vec![0u64; (2 * max_s + 1) as usize];
            let mut items = base.clone();
            for_each_permutation(&mut items, n, &mut |perm| {
                hist[(brute_s(perm) + max_s) as usize] += 1;
            });
            let total: u64 = hist.iter().sum();

            let mut observed = base.clone();
            for_each_permutation(&mut observed, n, &mut |obs| {
                let r = mann_kendall_decreasing(obs).unwrap();
                assert_eq!(r.s, brute_s(obs));
                let hits: u64 = hist[..=(r.s + max_s) as usize].iter().sum();
                let brute_p = hits as f64 / total as f64;
                assert!(r.exact);
                assert_close(r.p_value, brute_p, 1e-15);
            });
        }
    }

    #[test]
    fn exact_matches_brute_force_with_ties() {
        // Tied multisets on the 0-10 scale. Brute force runs over all n!
        // orderings with ties as distinguishable copies. That gives the same
        // p-value as counting distinct arrangements.
        let cases: &[&[f64]] = &[
            &[6.0, 6.0, 5.0, 5.0, 4.0],
            &[6.0, 6.0, 5.0, 4.0, 5.0],
            &[3.0, 3.0, 3.0, 2.0],
            &[8.0, 7.0, 8.0, 7.0, 7.0, 6.0],
            &[5.0, 4.0, 5.0, 5.0, 3.0, 4.0, 4.0],
            &[7.0, 7.0, 6.0, 7.0, 5.0, 6.0, 5.0, 5.0],
            &[2.0, 9.0, 2.0, 9.0, 2.0, 9.0, 2.0, 9.0],
            &[10.0, 0.0, 10.0, 0.0, 5.0, 5.0, 5.0, 0.0],
            &[4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0],
        ];
        for &x in cases {
            let r = mann_kendall_decreasing(x).unwrap();
            assert_eq!(r.s, brute_s(x), "{x:?}");
            assert!(r.exact);
            assert_close(r.p_value, brute_force_p(x, r.s), 1e-15);
        }
    }

    #[test]
    fn exact_distribution_is_symmetric_under_reversal() {
        // Reversing time turns S into -S. Under H0 the distribution of S is
        // symmetric about 0, so P(S' <= S) + P(S' <= -S) = 1 + P(S' = S)
        // whatever the ties. Here x = [6,6,5,4,5]: P(S' <= -6) = 3/30 and
        // P(S' <= 6) = 1 - P(S' >= 8) = 1 - 1/30 = 29/30 (by the same listing
        // as in `ties_n5_one_pair_out_of_order`, mirrored).
        let x = [6.0, 6.0, 5.0, 4.0, 5.0];
        let mut rev = x;
        rev.reverse();
        let a = mann_kendall_decreasing(&x).unwrap();
        let b = mann_kendall_decreasing(&rev).unwrap();
        assert_eq!(b.s, -a.s);
        assert_close(b.p_value, 29.0 / 30.0, 1e-15);
    }

    #[test]
    fn signed_zero_counts_as_tie() {
        // -0.0 == 0.0: S treats them as tied, so the tie groups must too.
        // [0, -0, 1, 1, 0]: one group {0,-0,0} of 3 and one group {1,1} of 2.
        let r = mann_kendall_decreasing(&[0.0, -0.0, 1.0, 1.0, 0.0]).unwrap();
        // Var = [300 - 3*2*11 - 2*1*9]/18 = (300 - 66 - 18)/18 = 216/18 = 12.
        assert_close(r.var_s, 12.0, 1e-12);
        assert_close(
            r.p_value,
            brute_force_p(&[0.0, 0.0, 1.0, 1.0, 0.0], r.s),
            1e-15,
        );
    }

    /// Timing check for the exact path at its largest size. Run with
    /// `cargo test --release -- --ignored --nocapture exact_n10_timing`.
    #[test]
    #[ignore = "timing; meaningful only in release mode"]
    fn exact_n10_timing() {
        use std::time::Instant;
        let x = [3.0, 7.0, 1.0, 9.0, 4.0, 10.0, 2.0, 8.0, 5.0, 6.0];
        let start = Instant::now();
        let r = mann_kendall_decreasing(&x).unwrap();
        let first = start.elapsed();
        assert!(r.exact);

        let iterations = 10_000u32;
        let start = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(mann_kendall_decreasing(std::hint::black_box(&x)));
        }
        let mean = start.elapsed() / iterations;
        println!(
            "n=10 distinct, exact: first call {first:?}, mean {mean:?} over {iterations} calls"
        );
        assert!(first.as_millis() < 50);
    }

    #[test]
    fn theil_sen_ignores_one_outlier() {
        let points = [(0.0, 8.0), (1.0, 7.0), (2.0, 6.0), (3.0, 0.0), (4.0, 4.0)];
        assert_eq!(theil_sen_slope(&points), Some(-1.0));
        assert_eq!(theil_sen_slope(&[(1.0, 5.0), (1.0, 6.0)]), None);
    }
}

//! Disclosure control for every count zicht publishes beyond a household's own people (the
//! gemeente dashboard, aggregate exports): no count can single out a household.
//!
//! *Primary suppression*: a count from 1 to 4 is not shown ([`Cell::Small`], "< 5"); 0 is shown,
//! it singles out nobody. *Secondary (complementary) suppression*, as statistical offices do it
//! (Statistics Netherlands' rules for tables with margins): a table is published with its row
//! and column totals and its grand total, so a suppressed cell could follow by subtraction from a
//! total and the other cells of its row or column. More cells are hidden ([`Cell::Hidden`], "x")
//! until no hidden value follows from the published ones.
//!
//! When does a hidden value follow? Move the totals to the other side of their equations (negate
//! them) and every row and every column of the table with its margins sums to zero. The hidden
//! cells are then the unknowns of a system with one equation per row and per column: the edges of
//! a bipartite graph between rows and columns, each equation a node. Such a system fixes an
//! unknown exactly when its edge lies on no cycle (a *bridge*): around a cycle, adding and taking
//! away one in turn keeps every equation. So cells are hidden until no hidden cell is a bridge,
//! closing each bridge's cycle along the cheapest path (small counts before large ones, inner cells
//! before totals, zeros last).

/// Counts under this are never shown.
pub const THRESHOLD: usize = 5;

/// A published count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Count(usize),
    /// Primary suppression: from 1 to [`THRESHOLD`] − 1.
    Small,
    /// Secondary suppression: hidden so that no small count follows by subtraction.
    Hidden,
}

impl Cell {
    /// A count published on its own, with no total it adds up to.
    pub fn single(n: usize) -> Cell {
        if (1..THRESHOLD).contains(&n) {
            Cell::Small
        } else {
            Cell::Count(n)
        }
    }

    /// How it reads on a page or in a CSV file.
    pub fn label(self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Small => format!("< {THRESHOLD}"),
            Cell::Hidden => "x".to_owned(),
        }
    }
}

/// A table of counts made safe to publish, with its margins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// `cells[row][column]`.
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub column_totals: Vec<Cell>,
    pub total: Cell,
}

/// Protects a table of counts (`counts[row][column]`, every row as long) that is published with
/// its row totals, its column totals and its grand total.
pub fn protect(counts: &[Vec<usize>]) -> Protected {
    let rows = counts.len();
    let columns = counts.first().map_or(0, Vec::len);
    assert!(
        counts.iter().all(|r| r.len() == columns),
        "rows of one length"
    );
    // The table with its margins: row `rows` holds the column totals, column `columns` the row
    // totals, and their corner the grand total.
    let mut value = vec![vec![0usize; columns + 1]; rows + 1];
    for (r, row) in counts.iter().enumerate() {
        for (c, &n) in row.iter().enumerate() {
            value[r][c] = n;
            value[r][columns] += n;
            value[rows][c] += n;
            value[rows][columns] += n;
        }
    }
    let primary: Vec<Vec<bool>> = value
        .iter()
        .map(|row| row.iter().map(|n| (1..THRESHOLD).contains(n)).collect())
        .collect();
    let mut hidden = primary.clone();
    while let Some((r, c)) = bridge(&hidden) {
        let path = complement(&value, &hidden, r, c);
        // A bridge has no path of hidden cells, so the path hides at least one more cell: the
        // loop ends, at worst with everything hidden (no cell of a full grid is a bridge).
        assert!(!path.is_empty(), "a bridge has a path to close");
        for (i, j) in path {
            hidden[i][j] = true;
        }
    }
    let cell = |r: usize, c: usize| {
        if primary[r][c] {
            Cell::Small
        } else if hidden[r][c] {
            Cell::Hidden
        } else {
            Cell::Count(value[r][c])
        }
    };
    Protected {
        cells: (0..rows)
            .map(|r| (0..columns).map(|c| cell(r, c)).collect())
            .collect(),
        row_totals: (0..rows).map(|r| cell(r, columns)).collect(),
        column_totals: (0..columns).map(|c| cell(rows, c)).collect(),
        total: cell(rows, columns),
    }
}

/// A hidden cell whose value follows from the published ones: its edge between its row and its
/// column is on no cycle of hidden cells.
fn bridge(hidden: &[Vec<bool>]) -> Option<(usize, usize)> {
    let rows = hidden.len();
    let columns = hidden.first().map_or(0, Vec::len);
    for r in 0..rows {
        for c in 0..columns {
            if hidden[r][c] && !connected_without(hidden, r, c) {
                return Some((r, c));
            }
        }
    }
    None
}

/// Whether row `r` reaches column `c` through hidden cells other than (`r`, `c`).
fn connected_without(hidden: &[Vec<bool>], r: usize, c: usize) -> bool {
    let rows = hidden.len();
    let columns = hidden.first().map_or(0, Vec::len);
    // Nodes: rows 0..rows, then columns rows..rows + columns.
    let mut seen = vec![false; rows + columns];
    let mut todo = vec![r];
    seen[r] = true;
    while let Some(node) = todo.pop() {
        let next: Vec<usize> = if node < rows {
            (0..columns)
                .filter(|&j| hidden[node][j] && (node, j) != (r, c))
                .map(|j| rows + j)
                .collect()
        } else {
            let j = node - rows;
            (0..rows)
                .filter(|&i| hidden[i][j] && (i, j) != (r, c))
                .collect()
        };
        for n in next {
            if n == rows + c {
                return true;
            }
            if !seen[n] {
                seen[n] = true;
                todo.push(n);
            }
        }
    }
    false
}

/// The cells to hide so that the bridge (`r`, `c`) lies on a cycle: the cheapest path from its
/// row to its column through the other cells, hidden cells costing nothing. A cell costs its
/// count (hiding a small count loses less), a total a thousand more, a zero more still (hiding a
/// zero leaves the hidden sum of its line as small as the count it should protect).
fn complement(
    value: &[Vec<usize>],
    hidden: &[Vec<bool>],
    r: usize,
    c: usize,
) -> Vec<(usize, usize)> {
    let rows = value.len();
    let columns = value.first().map_or(0, Vec::len);
    let cost = |i: usize, j: usize| -> u64 {
        if hidden[i][j] {
            return 0;
        }
        let n = value[i][j] as u64;
        let margin = if i + 1 == rows || j + 1 == columns {
            1_000
        } else {
            0
        };
        if n == 0 { 1_000_000 } else { n + margin }
    };
    // Dijkstra over rows 0..rows and columns rows..rows + columns, without the edge (r, c).
    let nodes = rows + columns;
    let mut best = vec![u64::MAX; nodes];
    let mut from: Vec<Option<usize>> = vec![None; nodes];
    let mut done = vec![false; nodes];
    best[r] = 0;
    while let Some(node) = (0..nodes)
        .filter(|&n| !done[n] && best[n] < u64::MAX)
        .min_by_key(|&n| best[n])
    {
        done[node] = true;
        if node == rows + c {
            break;
        }
        let edges: Vec<(usize, u64)> = if node < rows {
            (0..columns)
                .filter(|&j| (node, j) != (r, c))
                .map(|j| (rows + j, cost(node, j)))
                .collect()
        } else {
            let j = node - rows;
            (0..rows)
                .filter(|&i| (i, j) != (r, c))
                .map(|i| (i, cost(i, j)))
                .collect()
        };
        for (next, w) in edges {
            if !done[next] && best[node] + w < best[next] {
                best[next] = best[node] + w;
                from[next] = Some(node);
            }
        }
    }
    let mut path = Vec::new();
    let mut node = rows + c;
    while let Some(prev) = from[node] {
        let cell = if node < rows {
            (node, prev - rows)
        } else {
            (prev, node - rows)
        };
        if !hidden[cell.0][cell.1] {
            path.push(cell);
        }
        node = prev;
    }
    path
}

#[cfg(test)]
// Matrix arithmetic reads best with indices.
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    /// Every value an adversary can pin down from the published table: for each hidden cell,
    /// whether the published cells and margins fix it (checked independently of [`bridge`], by
    /// elimination over the rationals on the full equation system).
    fn recoverable(counts: &[Vec<usize>], p: &Protected) -> Vec<(usize, usize)> {
        let rows = counts.len();
        let columns = counts[0].len();
        let get = |r: usize, c: usize| -> Cell {
            match (r == rows, c == columns) {
                (false, false) => p.cells[r][c],
                (false, true) => p.row_totals[r],
                (true, false) => p.column_totals[c],
                (true, true) => p.total,
            }
        };
        let mut unknowns = Vec::new();
        for r in 0..=rows {
            for c in 0..=columns {
                if !matches!(get(r, c), Cell::Count(_)) {
                    unknowns.push((r, c));
                }
            }
        }
        // Equations: each row (cells − row total = 0), each column (cells − column total = 0),
        // over the table with margins; only the unknowns' coefficients matter for which are fixed.
        let mut eqs: Vec<Vec<f64>> = Vec::new();
        for r in 0..=rows {
            let mut e = vec![0.0; unknowns.len()];
            for (k, &(i, j)) in unknowns.iter().enumerate() {
                if i == r {
                    e[k] = if j == columns { -1.0 } else { 1.0 };
                }
            }
            eqs.push(e);
        }
        for c in 0..=columns {
            let mut e = vec![0.0; unknowns.len()];
            for (k, &(i, j)) in unknowns.iter().enumerate() {
                if j == c {
                    e[k] = if i == rows { -1.0 } else { 1.0 };
                }
            }
            eqs.push(e);
        }
        // Unknown k is fixed iff the unit vector e_k lies in the row space of the equations.
        let rank = |m: &Vec<Vec<f64>>| -> usize {
            let mut m = m.clone();
            let mut rank = 0;
            let width = unknowns.len();
            for col in 0..width {
                let Some(pivot) = (rank..m.len()).find(|&i| m[i][col].abs() > 1e-9) else {
                    continue;
                };
                m.swap(rank, pivot);
                for i in 0..m.len() {
                    if i != rank && m[i][col].abs() > 1e-9 {
                        let f = m[i][col] / m[rank][col];
                        for k in 0..width {
                            m[i][k] -= f * m[rank][k];
                        }
                    }
                }
                rank += 1;
            }
            rank
        };
        let base = rank(&eqs);
        unknowns
            .iter()
            .enumerate()
            .filter(|(k, _)| {
                let mut with = eqs.clone();
                let mut unit = vec![0.0; unknowns.len()];
                unit[*k] = 1.0;
                with.push(unit);
                rank(&with) == base
            })
            .map(|(_, &u)| u)
            .collect()
    }

    fn check(counts: &[Vec<usize>]) -> Protected {
        let p = protect(counts);
        assert_eq!(recoverable(counts, &p), [], "{counts:?} -> {p:?}");
        // Every small count is hidden as small; every shown count is the true one.
        let rows = counts.len();
        let columns = counts[0].len();
        for r in 0..rows {
            for c in 0..columns {
                match p.cells[r][c] {
                    Cell::Count(n) => assert_eq!(n, counts[r][c]),
                    Cell::Small => assert!((1..THRESHOLD).contains(&counts[r][c])),
                    Cell::Hidden => {}
                }
                if (1..THRESHOLD).contains(&counts[r][c]) {
                    assert_eq!(p.cells[r][c], Cell::Small);
                }
            }
        }
        p
    }

    #[test]
    fn a_table_without_small_counts_is_shown_whole() {
        let p = check(&[vec![5, 9], vec![12, 0]]);
        assert_eq!(
            p.cells,
            [
                vec![Cell::Count(5), Cell::Count(9)],
                vec![Cell::Count(12), Cell::Count(0)]
            ]
        );
        assert_eq!(p.total, Cell::Count(26));
    }

    #[test]
    fn one_small_cell_takes_three_others_with_it() {
        // The issue's case: phase 1 total 15, one wijk 5, the rest "< 5": the one small cell of
        // a row would follow from the row total, so a second cell of its row, one of its column
        // and the fourth corner are hidden too.
        let p = check(&[vec![3, 8, 7], vec![6, 9, 10], vec![11, 5, 6]]);
        let hidden = p
            .cells
            .iter()
            .flatten()
            .filter(|c| !matches!(c, Cell::Count(_)))
            .count();
        assert_eq!(hidden, 4, "{p:?}");
        assert!(matches!(p.total, Cell::Count(65)));
    }

    #[test]
    fn the_issue_example_no_longer_gives_the_last_wijk_away() {
        // Phase 1 in four wijken: 5, 2, 3, 5 (total 15). Before, "< 5" twice with the total and the
        // other cells gave 2 + 3 = 5, and with one small cell alone its exact value.
        check(&[vec![5, 1], vec![2, 7], vec![3, 0], vec![5, 6]]);
        check(&[vec![5], vec![2], vec![8]]);
    }

    #[test]
    fn a_single_row_or_column_is_safe_too() {
        // One wijk: its row equals the total row.
        check(&[vec![3, 6, 0, 9]]);
        check(&[vec![3], vec![6], vec![0]]);
        check(&[vec![2]]);
    }

    #[test]
    fn many_tables_leave_nothing_recoverable() {
        // A deterministic spread of shapes and values, small counts frequent.
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..300 {
            let rows = 1 + next() % 6;
            let columns = 1 + next() % 5;
            let counts: Vec<Vec<usize>> = (0..rows)
                .map(|_| {
                    (0..columns)
                        .map(|_| [0, 1, 2, 4, 5, 7, 12][next() % 7])
                        .collect()
                })
                .collect();
            check(&counts);
        }
    }

    #[test]
    fn a_lone_count_is_only_primary() {
        assert_eq!(Cell::single(0), Cell::Count(0));
        assert_eq!(Cell::single(4).label(), "< 5");
        assert_eq!(Cell::single(5), Cell::Count(5));
        assert_eq!(Cell::Hidden.label(), "x");
    }
}

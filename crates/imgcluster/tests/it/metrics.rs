//! Integration tests: metrics.
//!
//! Expected NMI/ARI values come from scikit-learn 1.9 (`normalized_mutual_info_score`,
//! `adjusted_rand_score`), from its documentation, or from hand calculation; the printed
//! matrices from NumPy 2.4's `print`.

use imgcluster::metrics::{
    evaluate, Accuracy, ClusterMapping, ConfusionMatrix, Contingency, Mapping, MetricsError,
    PrintOptions, MAX_SAMPLES,
};
use proptest::prelude::*;

use crate::common;

/// A table whose sizes are the largest label + 1 (as scikit-learn sees labels).
fn table(truth: &[u32], clusters: &[u32]) -> Contingency {
    let n_classes = truth.iter().max().map_or(0, |&m| m as usize + 1);
    let k = clusters.iter().max().map_or(0, |&m| m as usize + 1);
    Contingency::new(truth, clusters, n_classes, k).unwrap()
}

fn ari(truth: &[u32], clusters: &[u32]) -> f64 {
    table(truth, clusters).ari()
}

fn nmi(truth: &[u32], clusters: &[u32]) -> f64 {
    table(truth, clusters).nmi()
}

fn assert_close(got: f64, expected: f64, tol: f64) {
    assert!(
        (got - expected).abs() <= tol,
        "got {got:?}, expected {expected:?} (tolerance {tol:e})"
    );
}

// ---------------------------------------------------------------------------------------
// scikit-learn's documented values and special cases

#[test]
fn ari_documented_values() {
    assert_eq!(ari(&[0, 0, 1, 1], &[0, 0, 1, 1]), 1.0);
    assert_eq!(ari(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
    // Older scikit-learn documentation prints 0.5714285714285715; scikit-learn 1.9 returns
    // 0.5714285714285714, the double nearest to 4/7. Both are within one ulp.
    assert_close(ari(&[0, 0, 1, 2], &[0, 0, 1, 1]), 0.5714285714285715, 2e-16);
    assert_eq!(ari(&[0, 0, 1, 2], &[0, 0, 1, 1]), 4.0 / 7.0);
    assert_eq!(ari(&[0, 0, 1, 1], &[0, 0, 1, 2]), 4.0 / 7.0);
    assert_eq!(ari(&[0, 0, 0, 0], &[0, 1, 2, 3]), 0.0);
    assert_eq!(ari(&[0, 0, 1, 1], &[0, 1, 0, 1]), -0.5);
}

#[test]
fn ari_special_cases() {
    // Both constant, or a single sample: no pair is split differently → 1.0.
    assert_eq!(ari(&[0, 0, 0], &[1, 1, 1]), 1.0);
    assert_eq!(ari(&[0], &[0]), 1.0);
    // One constant labelling against a split one → 0.0.
    assert_eq!(ari(&[0, 0, 1, 1], &[0, 0, 0, 0]), 0.0);
    // Empty clusters/classes (rows/columns of zeros) change nothing.
    let padded = Contingency::new(&[0, 0, 1, 2], &[0, 0, 3, 3], 5, 6).unwrap();
    assert_eq!(padded.ari(), 4.0 / 7.0);
}

#[test]
fn nmi_documented_values() {
    assert_eq!(nmi(&[0, 0, 1, 1], &[0, 0, 1, 1]), 1.0);
    assert_eq!(nmi(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
    assert_eq!(nmi(&[0, 0, 0, 0], &[0, 1, 2, 3]), 0.0);
}

#[test]
fn nmi_degenerate_cases_follow_scikit_learn() {
    // Both labellings constant: a perfect match.
    assert_eq!(nmi(&[0, 0, 0], &[1, 1, 1]), 1.0);
    assert_eq!(nmi(&[3], &[0]), 1.0);
    // Only one of them constant: MI = 0, NMI = 0.
    assert_eq!(nmi(&[0, 0, 1, 1], &[0, 0, 0, 0]), 0.0);
    assert_eq!(nmi(&[0, 0, 0, 0], &[0, 0, 1, 1]), 0.0);
    // Empty rows and columns do not make a constant labelling non-constant.
    let t = Contingency::new(&[2, 2, 2], &[4, 4, 4], 3, 5).unwrap();
    assert_eq!(t.nmi(), 1.0);
}

#[test]
fn scores_match_scikit_learn_on_random_labels() {
    // (truth, clusters, NMI, ARI, MI) from scikit-learn 1.9.
    #[allow(clippy::type_complexity)]
    let cases: [(&[u32], &[u32], f64, f64, f64); 3] = [
        (
            &[1, 2, 3, 3, 0, 0, 3, 3, 0, 1, 3, 1, 1, 3, 1, 1, 2, 2, 0, 0],
            &[4, 3, 4, 2, 4, 1, 2, 3, 0, 1, 0, 2, 4, 0, 1, 2, 4, 1, 2, 1],
            0.22573617252711708,
            -0.05501452246711088,
            0.3282285832625973,
        ),
        (
            &[3, 1, 0, 1, 1, 3, 1, 0, 1, 2, 3, 2, 3, 0, 3, 0, 2, 1, 0, 2],
            &[1, 2, 1, 0, 3, 2, 3, 3, 4, 2, 1, 3, 4, 4, 4, 3, 1, 1, 0, 0],
            0.1634401952672884,
            -0.09816823759558954,
            0.24192396152706305,
        ),
        (
            &[3, 0, 0, 0, 0, 3, 3, 2, 0, 0, 1, 1, 2, 1, 1, 0, 2, 2, 0, 0],
            &[2, 1, 4, 2, 2, 2, 3, 2, 0, 3, 3, 4, 3, 1, 1, 3, 3, 3, 4, 1],
            0.24864563954653654,
            -0.04996214988644966,
            0.34287303183862394,
        ),
    ];
    for (truth, clusters, nmi, ari, mi) in cases {
        let t = table(truth, clusters);
        assert_close(t.nmi(), nmi, 1e-14);
        assert_close(t.ari(), ari, 1e-15);
        assert_close(t.mutual_info(), mi, 1e-14);
    }
}

// ---------------------------------------------------------------------------------------
// NumPy's print format

#[test]
fn display_matches_numpy_small() {
    let cm = ConfusionMatrix::from_counts(2, vec![1, 0, 0, 12]).unwrap();
    assert_eq!(cm.to_string(), "[[ 1  0]\n [ 0 12]]");
    let one = ConfusionMatrix::from_counts(1, vec![5]).unwrap();
    assert_eq!(one.to_string(), "[[5]]");
}

/// The OpenCV tutorial's first confusion matrix (k-means on the raw digits, best
/// one-to-one matching), as NumPy prints it.
const TUTORIAL_MATRIX: [u64; 100] = [
    399, 0, 2, 28, 2, 23, 27, 0, 13, 6, //
    0, 351, 0, 1, 0, 1, 0, 0, 1, 146, //
    4, 57, 315, 26, 3, 14, 4, 4, 38, 35, //
    2, 4, 3, 241, 9, 12, 3, 1, 141, 84, //
    0, 8, 58, 0, 261, 27, 3, 93, 0, 50, //
    3, 4, 0, 150, 27, 190, 12, 1, 53, 60, //
    6, 13, 83, 4, 0, 13, 349, 0, 0, 32, //
    0, 22, 3, 1, 178, 10, 0, 228, 0, 58, //
    0, 15, 16, 85, 15, 18, 3, 8, 260, 80, //
    2, 4, 23, 7, 228, 8, 1, 161, 1, 65,
];

const TUTORIAL_TEXT: &str = "\
[[399   0   2  28   2  23  27   0  13   6]
 [  0 351   0   1   0   1   0   0   1 146]
 [  4  57 315  26   3  14   4   4  38  35]
 [  2   4   3 241   9  12   3   1 141  84]
 [  0   8  58   0 261  27   3  93   0  50]
 [  3   4   0 150  27 190  12   1  53  60]
 [  6  13  83   4   0  13 349   0   0  32]
 [  0  22   3   1 178  10   0 228   0  58]
 [  0  15  16  85  15  18   3   8 260  80]
 [  2   4  23   7 228   8   1 161   1  65]]";

#[test]
fn tutorial_matrix_prints_like_numpy_and_scores_53_18() {
    let cm = ConfusionMatrix::from_counts(10, TUTORIAL_MATRIX.to_vec()).unwrap();
    assert_eq!(cm.to_string(), TUTORIAL_TEXT);
    assert_eq!((cm.trace(), cm.total()), (2659, 5000));
    assert_eq!(cm.accuracy().format_percent(), "53.18");
    assert_eq!(cm.accuracy().to_string(), "53.18%");
    assert_close(cm.accuracy().percent(), 53.18, 1e-12);
    // Per-class: digit 1 was found 351 times of 500, and 351 of 478 "1" predictions.
    let s = cm.class_stats()[1];
    assert_eq!((s.correct, s.support, s.predicted), (351, 500, 478));
    assert_eq!(cm.recall(1), Some(351.0 / 500.0));
    assert_eq!(cm.precision(1), Some(351.0 / 478.0));
    assert_eq!(cm.precision(10), None);
    assert_eq!(cm.recall(10), None);
}

#[test]
fn display_wraps_rows_like_numpy() {
    // 12 × 12 with 5-digit entries: each row passes NumPy's 75-character line width.
    #[rustfmt::skip]
    let data: Vec<u64> = vec![
        10000, 1875, 2052, 2691, 1734, 2327, 2500, 675, 166, 900, 855, 2620,
        2737, 15, 1499, 2463, 394, 2391, 357, 1403, 2449, 909, 1024, 835,
        2158, 764, 2971, 1335, 1434, 1513, 1747, 1660, 1528, 2986, 2422, 2377,
        2100, 1866, 1023, 2966, 1398, 645, 2535, 480, 2572, 1837, 344, 131,
        1334, 107, 424, 1544, 2910, 1398, 2425, 2751, 2470, 1887, 1324, 1542,
        798, 1490, 1138, 742, 2979, 35, 291, 577, 2907, 2076, 2645, 601,
        2162, 1108, 1467, 11, 1852, 2490, 1991, 463, 1601, 802, 2894, 2640,
        558, 1529, 2819, 2541, 2123, 1919, 126, 2225, 1420, 274, 733, 1623,
        2180, 1523, 1838, 2614, 2058, 1083, 1929, 1794, 324, 177, 1980, 1162,
        1794, 969, 676, 450, 1144, 2449, 1202, 1138, 1726, 2936, 1176, 1769,
        1318, 1815, 1337, 1913, 1641, 2029, 2870, 452, 1684, 1320, 1073, 718,
        156, 1207, 2478, 290, 1218, 2903, 2854, 645, 22, 2015, 42, 901,
    ];
    // NumPy 2.4: print(a) with default options.
    let expected = "\
[[10000  1875  2052  2691  1734  2327  2500   675   166   900   855  2620]
 [ 2737    15  1499  2463   394  2391   357  1403  2449   909  1024   835]
 [ 2158   764  2971  1335  1434  1513  1747  1660  1528  2986  2422  2377]
 [ 2100  1866  1023  2966  1398   645  2535   480  2572  1837   344   131]
 [ 1334   107   424  1544  2910  1398  2425  2751  2470  1887  1324  1542]
 [  798  1490  1138   742  2979    35   291   577  2907  2076  2645   601]
 [ 2162  1108  1467    11  1852  2490  1991   463  1601   802  2894  2640]
 [  558  1529  2819  2541  2123  1919   126  2225  1420   274   733  1623]
 [ 2180  1523  1838  2614  2058  1083  1929  1794   324   177  1980  1162]
 [ 1794   969   676   450  1144  2449  1202  1138  1726  2936  1176  1769]
 [ 1318  1815  1337  1913  1641  2029  2870   452  1684  1320  1073   718]
 [  156  1207  2478   290  1218  2903  2854   645    22  2015    42   901]]";
    let cm = ConfusionMatrix::from_counts(12, data.clone()).unwrap();
    assert_eq!(cm.to_string(), expected);
    // One more digit of width and NumPy wraps each row after 10 entries.
    let mut wider = data;
    wider[0] = 100_000;
    let text = ConfusionMatrix::from_counts(12, wider).unwrap().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 24);
    assert_eq!(
        lines[..4],
        [
            "[[100000   1875   2052   2691   1734   2327   2500    675    166    900",
            "     855   2620]",
            " [  2737     15   1499   2463    394   2391    357   1403   2449    909",
            "    1024    835]",
        ]
    );
    assert_eq!(
        lines[22..],
        [
            " [   156   1207   2478    290   1218   2903   2854    645     22   2015",
            "      42    901]]",
        ]
    );
    assert!(lines.iter().all(|l| l.len() <= 75));
}

#[test]
fn display_summarises_like_numpy() {
    // 32 × 32 = 1024 entries > NumPy's threshold of 1000: three edge items each side.
    let mut data = vec![0u64; 32 * 32];
    for i in 0..32 {
        data[i * 32 + i] = 500;
    }
    data[31 * 32] = 7;
    let cm = ConfusionMatrix::from_counts(32, data).unwrap();
    let expected = "\
[[500   0   0 ...   0   0   0]
 [  0 500   0 ...   0   0   0]
 [  0   0 500 ...   0   0   0]
 ...
 [  0   0   0 ... 500   0   0]
 [  0   0   0 ...   0 500   0]
 [  7   0   0 ...   0   0 500]]";
    assert_eq!(cm.to_string(), expected);
    // Without summarising every row is printed (and wrapped at 75 characters).
    let full = cm
        .display_with(PrintOptions::new().threshold(usize::MAX))
        .to_string();
    assert_eq!(full.matches('[').count(), 33);
    assert!(!full.contains("..."));
}

#[test]
fn print_options_defaults_are_numpys() {
    let o = PrintOptions::default();
    assert_eq!(o.get_line_width(), 75);
    assert_eq!(o.get_threshold(), 1000);
    assert_eq!(o.get_edge_items(), 3);
}

// ---------------------------------------------------------------------------------------
// Matching

#[test]
fn one_to_one_finds_the_best_permutation() {
    // Greedy (cluster 0 takes its best class 0) would match 5 + 1 = 6; optimal is 4 + 4.
    let t = Contingency::from_counts(2, 2, vec![5, 4, 4, 1]).unwrap();
    let m = ClusterMapping::from_table(&t, Mapping::OneToOne);
    assert_eq!(m.as_slice(), &[1, 0]);
    assert!(m.is_bijection());
    assert_eq!(
        ClusterMapping::from_table(&t, Mapping::Majority).as_slice(),
        &[0, 0]
    );
}

#[test]
fn one_to_one_ties_go_to_the_lexicographically_smallest() {
    // Every permutation matches 3 samples: identity wins.
    let t = Contingency::from_counts(3, 3, vec![1; 9]).unwrap();
    assert_eq!(
        ClusterMapping::from_table(&t, Mapping::OneToOne).as_slice(),
        &[0, 1, 2]
    );
    // [1,0,2] and [2,0,1]... : cluster 0 can take class 1 or 2 in an optimum; it takes 1.
    let t = Contingency::from_counts(3, 3, vec![0, 5, 5, 5, 0, 0, 0, 5, 5]).unwrap();
    assert_eq!(
        ClusterMapping::from_table(&t, Mapping::OneToOne).as_slice(),
        &[1, 0, 2]
    );
}

#[test]
fn one_to_one_with_fewer_clusters_than_classes() {
    // 2 clusters, 3 classes. Cluster 1 takes class 2 (4 samples); cluster 0 holds 2 of
    // class 0 and 2 of class 1, a tie that goes to the lower class: class 1 is never
    // predicted.
    let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2];
    let clusters = [0, 0, 1, 0, 0, 1, 1, 1, 1];
    let e = evaluate(&truth, &clusters, 3, 2, Mapping::OneToOne).unwrap();
    assert_eq!(e.mapping.as_slice(), &[0, 2]);
    assert_eq!(e.accuracy.correct(), 6);
    assert_eq!(e.confusion.precision(1), None);
    assert_eq!(e.confusion.recall(1), Some(0.0));
}

#[test]
fn one_to_one_with_more_clusters_falls_back_to_majority() {
    // 3 clusters, 2 classes; cluster 1 wins class 0, cluster 2 falls back to class 0 too.
    let t = Contingency::from_counts(3, 2, vec![0, 5, 4, 0, 3, 1]).unwrap();
    let m = ClusterMapping::from_table(&t, Mapping::OneToOne);
    assert_eq!(m.as_slice(), &[1, 0, 0]);
    assert!(!m.is_bijection());
}

#[test]
fn majority_ties_and_empty_clusters_go_to_class_zero_or_lowest() {
    let t = Contingency::from_counts(3, 3, vec![0, 2, 2, 0, 0, 0, 1, 0, 1]).unwrap();
    assert_eq!(
        ClusterMapping::from_table(&t, Mapping::Majority).as_slice(),
        &[1, 0, 0]
    );
}

#[test]
fn apply_maps_cluster_ids() {
    let m = ClusterMapping::new(vec![2, 2, 0], 3).unwrap();
    assert_eq!(m.apply(&[0, 1, 2, 2]).unwrap(), vec![2, 2, 0, 0]);
    assert_eq!(m.apply(&[]).unwrap(), Vec::<u32>::new());
    assert_eq!((m.k(), m.n_classes()), (3, 3));
    assert_eq!(m.class_of(3), None);
    assert_eq!(m.clone().into_vec(), vec![2, 2, 0]);
    assert!(!m.is_bijection());
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn errors_carry_their_data() {
    use MetricsError::*;
    assert_eq!(
        Contingency::new(&[0, 1], &[0], 2, 2),
        Err(LengthMismatch {
            truth: 2,
            predicted: 1
        })
    );
    assert_eq!(Contingency::new(&[], &[], 2, 2), Err(Empty));
    assert_eq!(ConfusionMatrix::new(&[], &[], 2), Err(Empty));
    assert_eq!(
        evaluate(&[], &[], 2, 2, Mapping::OneToOne).err(),
        Some(Empty)
    );
    assert_eq!(
        Contingency::new(&[0, 2], &[0, 9], 2, 3),
        Err(TruthOutOfRange {
            index: 1,
            label: 2,
            n_classes: 2
        })
    );
    assert_eq!(
        evaluate(&[0, 1, 1], &[0, 1, 3], 2, 3, Mapping::Majority).err(),
        Some(ClusterOutOfRange {
            index: 2,
            label: 3,
            k: 3
        })
    );
    assert_eq!(
        ConfusionMatrix::new(&[0, 1], &[1, 4], 2),
        Err(PredictedOutOfRange {
            index: 1,
            label: 4,
            n_classes: 2
        })
    );
    assert_eq!(
        ConfusionMatrix::from_counts(2, vec![1, 2, 3]),
        Err(ShapeMismatch {
            rows: 2,
            cols: 2,
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(ConfusionMatrix::from_counts(2, vec![0; 4]), Err(Empty));
    assert_eq!(Contingency::from_counts(0, 5, vec![]), Err(Empty));
    assert_eq!(
        Contingency::from_counts(1, 2, vec![MAX_SAMPLES, 1]),
        Err(TooManySamples { max: MAX_SAMPLES })
    );
    assert_eq!(
        Contingency::from_counts(1, 2, vec![u64::MAX, u64::MAX]),
        Err(TooManySamples { max: MAX_SAMPLES })
    );
    assert!(Contingency::from_counts(1, 2, vec![MAX_SAMPLES - 1, 1]).is_ok());
    assert_eq!(
        Contingency::new(&[0], &[0], usize::MAX, 2),
        Err(TableTooLarge {
            rows: 2,
            cols: usize::MAX
        })
    );
    assert_eq!(
        ClusterMapping::new(vec![0, 1, 5], 3),
        Err(MappedClassOutOfRange {
            cluster: 2,
            class: 5,
            n_classes: 3
        })
    );
    let t = Contingency::from_counts(2, 2, vec![1, 0, 0, 1]).unwrap();
    let m = ClusterMapping::new(vec![0, 1, 1], 2).unwrap();
    assert_eq!(
        ConfusionMatrix::from_contingency(&t, &m),
        Err(MappingMismatch {
            mapping_k: 3,
            mapping_classes: 2,
            table_k: 2,
            table_classes: 2
        })
    );
    assert_eq!(
        Accuracy::from_labels(&[1], &[]),
        Err(LengthMismatch {
            truth: 1,
            predicted: 0
        })
    );
}

#[test]
fn errors_fold_into_the_library_error_and_read_well() {
    let e = Contingency::new(&[0, 7], &[0, 0], 3, 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "true label 7 at index 1 is out of range: there are 3 classes"
    );
    let top: imgcluster::Error = e.into();
    assert!(matches!(
        top,
        imgcluster::Error::Metrics(MetricsError::TruthOutOfRange { .. })
    ));
    assert_eq!(
        top.to_string(),
        "true label 7 at index 1 is out of range: there are 3 classes"
    );
    fn library_result() -> imgcluster::Result<f64> {
        Ok(evaluate(&[0], &[0, 1], 1, 2, Mapping::OneToOne)?.nmi)
    }
    assert!(matches!(
        library_result(),
        Err(imgcluster::Error::Metrics(MetricsError::LengthMismatch {
            truth: 1,
            predicted: 2
        }))
    ));
}

// ---------------------------------------------------------------------------------------
// OpenCV fixtures: the tutorial's k-means runs on the digits

fn fixture_labels(name: &str) -> Vec<u32> {
    let npy = common::read_npy(name);
    npy.to_i32().into_iter().map(|l| l as u32).collect()
}

/// (case, K, one-to-one mapping, one-to-one correct, majority correct, NMI, ARI), the
/// scores from scikit-learn 1.9 and the mappings from SciPy's `linear_sum_assignment`
/// (the optima are unique).
#[allow(clippy::type_complexity)]
const FIXTURE_CASES: [(&str, usize, &[u32], u64, u64, f64, f64); 3] = [
    (
        "00",
        10,
        &[2, 0, 7, 5, 1, 4, 6, 9, 3, 8],
        2659,
        2740,
        0.4670637020995965,
        0.33322320003919337,
    ),
    (
        "01",
        10,
        &[9, 5, 6, 4, 2, 3, 7, 8, 1, 0],
        3546,
        3546,
        0.6026399804472787,
        0.5106354277798937,
    ),
    (
        "06",
        25,
        &[
            7, 0, 2, 2, 2, 6, 2, 1, 9, 0, 5, 5, 3, 8, 7, 5, 6, 4, 1, 4, 3, 8, 0, 0, 3,
        ],
        3692,
        3692,
        0.5572323001362732,
        0.3301404685795678,
    ),
];

#[test]
fn opencv_tutorial_runs_score_as_documented() {
    let truth = fixture_labels("digits_labels.npy");
    for (case, k, mapping, correct, majority, nmi, ari) in FIXTURE_CASES {
        let clusters = fixture_labels(&format!("kmeans_{case}_labels.npy"));
        let e = evaluate(&truth, &clusters, 10, k, Mapping::OneToOne).unwrap();
        assert_eq!(e.mapping.as_slice(), mapping, "case {case}");
        assert_eq!(e.accuracy.correct(), correct, "case {case}");
        assert_eq!(e.accuracy.total(), 5000);
        assert_close(e.nmi, nmi, 1e-12);
        assert_close(e.ari, ari, 1e-12);
        let m = evaluate(&truth, &clusters, 10, k, Mapping::Majority).unwrap();
        assert_eq!(m.accuracy.correct(), majority, "case {case}");
        assert_eq!((m.nmi, m.ari), (e.nmi, e.ari));
    }
    // Case 00 is the tutorial's first matrix: 53.18 %; case 01 (deskewed) 70.92 %.
    let clusters = fixture_labels("kmeans_00_labels.npy");
    let e = evaluate(&truth, &clusters, 10, 10, Mapping::OneToOne).unwrap();
    assert_eq!(e.confusion.as_slice(), &TUTORIAL_MATRIX);
    assert_eq!(e.confusion.to_string(), TUTORIAL_TEXT);
    assert_eq!(e.accuracy.format_percent(), "53.18");
    let clusters = fixture_labels("kmeans_01_labels.npy");
    let e = evaluate(&truth, &clusters, 10, 10, Mapping::OneToOne).unwrap();
    assert_eq!(e.accuracy.format_percent(), "70.92");
}

// ---------------------------------------------------------------------------------------
// Properties

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1c1u64 << 20 | 0x5eed),
        ..ProptestConfig::default()
    }
}

/// (truth, clusters, n_classes, k): 1..=60 samples, 1..=6 classes, 1..=7 clusters.
fn labelled() -> impl Strategy<Value = (Vec<u32>, Vec<u32>, usize, usize)> {
    (1usize..=6, 1usize..=7, 1usize..=60).prop_flat_map(|(c, k, n)| {
        (
            proptest::collection::vec(0..c as u32, n),
            proptest::collection::vec(0..k as u32, n),
            Just(c),
            Just(k),
        )
    })
}

/// A permutation of `0..k`.
fn permutation(k: usize) -> impl Strategy<Value = Vec<u32>> {
    Just((0..k as u32).collect::<Vec<_>>()).prop_shuffle()
}

/// All permutations of 0..n in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn rec(prefix: &mut Vec<usize>, used: &mut [bool], out: &mut Vec<Vec<usize>>) {
        if prefix.len() == used.len() {
            out.push(prefix.clone());
            return;
        }
        for j in 0..used.len() {
            if !used[j] {
                used[j] = true;
                prefix.push(j);
                rec(prefix, used, out);
                prefix.pop();
                used[j] = false;
            }
        }
    }
    let mut out = Vec::new();
    rec(&mut Vec::new(), &mut vec![false; n], &mut out);
    out
}

/// ARI from its definition, counting unordered pairs one by one.
fn naive_ari(truth: &[u32], clusters: &[u32]) -> f64 {
    let n = truth.len();
    let (mut both, mut only_t, mut only_c, mut neither) = (0f64, 0f64, 0f64, 0f64);
    for i in 0..n {
        for j in i + 1..n {
            match (truth[i] == truth[j], clusters[i] == clusters[j]) {
                (true, true) => both += 1.0,
                (true, false) => only_t += 1.0,
                (false, true) => only_c += 1.0,
                (false, false) => neither += 1.0,
            }
        }
    }
    if only_t == 0.0 && only_c == 0.0 {
        return 1.0;
    }
    let pairs = both + only_t + only_c + neither;
    let expected = (both + only_t) * (both + only_c) / pairs;
    let max = ((both + only_t) + (both + only_c)) / 2.0;
    (both - expected) / (max - expected)
}

/// NMI from probabilities: I(T; C) / mean(H(T), H(C)), scikit-learn's special cases.
fn naive_nmi(truth: &[u32], clusters: &[u32]) -> f64 {
    use std::collections::BTreeMap;
    let n = truth.len() as f64;
    let mut pt = BTreeMap::new();
    let mut pc = BTreeMap::new();
    let mut ptc = BTreeMap::new();
    for (&t, &c) in truth.iter().zip(clusters) {
        *pt.entry(t).or_insert(0.0) += 1.0 / n;
        *pc.entry(c).or_insert(0.0) += 1.0 / n;
        *ptc.entry((t, c)).or_insert(0.0) += 1.0 / n;
    }
    if pt.len() == 1 && pc.len() == 1 {
        return 1.0;
    }
    if pt.len() == 1 || pc.len() == 1 {
        return 0.0;
    }
    let h = |p: &BTreeMap<u32, f64>| -p.values().map(|&x| x * x.ln()).sum::<f64>();
    let mi: f64 = ptc
        .iter()
        .map(|(&(t, c), &p)| p * (p / (pt[&t] * pc[&c])).ln())
        .sum();
    mi / ((h(&pt) + h(&pc)) / 2.0)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scores_are_unchanged_by_renaming_clusters(
        (truth, clusters, c, k, perm) in labelled()
            .prop_flat_map(|(t, cl, c, k)| (Just(t), Just(cl), Just(c), Just(k), permutation(k)))
    ) {
        let renamed: Vec<u32> = clusters.iter().map(|&x| perm[x as usize]).collect();
        for mapping in [Mapping::OneToOne, Mapping::Majority] {
            let a = evaluate(&truth, &clusters, c, k, mapping).unwrap();
            let b = evaluate(&truth, &renamed, c, k, mapping).unwrap();
            prop_assert_eq!(a.accuracy, b.accuracy);
            prop_assert!((a.nmi - b.nmi).abs() < 1e-12);
            prop_assert!((a.ari - b.ari).abs() < 1e-12);
            // Mapped predictions may differ only where tie-breaking picks another optimum,
            // but the number of correct samples cannot.
            prop_assert_eq!(a.confusion.trace(), b.confusion.trace());
        }
    }

    #[test]
    fn one_to_one_is_a_bijection_when_k_equals_n_classes(
        (truth, clusters, c, _k) in labelled()
            .prop_flat_map(|(_, _, c, _)| (1usize..=60).prop_flat_map(move |n| (
                proptest::collection::vec(0..c as u32, n),
                proptest::collection::vec(0..c as u32, n),
                Just(c),
                Just(c),
            )))
    ) {
        let e = evaluate(&truth, &clusters, c, c, Mapping::OneToOne).unwrap();
        prop_assert!(e.mapping.is_bijection());
        let mut sorted = e.mapping.as_slice().to_vec();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..c as u32).collect::<Vec<_>>());
    }

    #[test]
    fn one_to_one_equals_brute_force_over_permutations(
        (truth, clusters, c, k) in labelled()
    ) {
        // With k <= n_classes every cluster is matched, so the mapping is the first optimal
        // injection in lexicographic order.
        prop_assume!(k <= c);
        let t = Contingency::new(&truth, &clusters, c, k).unwrap();
        let mut best: Option<(u64, Vec<u32>)> = None;
        for p in permutations(c) {
            let s: u64 = (0..k).map(|cl| t.get(cl, p[cl]).unwrap()).sum();
            if best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, p[..k].iter().map(|&x| x as u32).collect()));
            }
        }
        let (score, mapping) = best.unwrap();
        let e = evaluate(&truth, &clusters, c, k, Mapping::OneToOne).unwrap();
        prop_assert_eq!(e.accuracy.correct(), score);
        prop_assert_eq!(e.mapping.as_slice(), &mapping[..]);
    }

    #[test]
    fn one_to_one_with_more_clusters_is_optimal_then_majority(
        (truth, clusters, c, k) in labelled()
    ) {
        prop_assume!(k > c);
        let t = Contingency::new(&truth, &clusters, c, k).unwrap();
        // Best one-to-one score: choose which clusters get classes 0..c (an injection of
        // classes into clusters).
        let mut best = 0;
        for p in permutations(k) {
            best = best.max((0..c).map(|class| t.get(p[class], class).unwrap()).sum::<u64>());
        }
        let m = ClusterMapping::from_table(&t, Mapping::OneToOne);
        let majority = ClusterMapping::from_table(&t, Mapping::Majority);
        let majority_count = |cl: usize| *t.row(cl).unwrap().iter().max().unwrap();
        // Among the optimal matchings, the best total with the left-over clusters' majority.
        let mut best_total = 0;
        for p in permutations(k) {
            let score: u64 = (0..c).map(|class| t.get(p[class], class).unwrap()).sum();
            if score == best {
                let left: u64 = p[c..].iter().map(|&cl| majority_count(cl)).sum();
                best_total = best_total.max(score + left);
            }
        }
        let e = evaluate(&truth, &clusters, c, k, Mapping::OneToOne).unwrap();
        prop_assert_eq!(e.accuracy.correct(), best_total);
        // Exactly c clusters hold distinct classes and score `best`; every other cluster
        // holds its majority class.
        let mut found = false;
        for p in permutations(k) {
            let matched: Vec<usize> = p[..c].to_vec(); // matched[class] = cluster
            let score: u64 = (0..c).map(|class| t.get(matched[class], class).unwrap()).sum();
            if score != best {
                continue;
            }
            let ok = (0..k).all(|cl| match matched.iter().position(|&x| x == cl) {
                Some(class) => m.as_slice()[cl] == class as u32,
                None => m.as_slice()[cl] == majority.as_slice()[cl],
            });
            if ok {
                found = true;
                break;
            }
        }
        prop_assert!(found, "mapping {:?} is not an optimum plus majority fallback", m.as_slice());
    }

    #[test]
    fn confusion_matrix_is_consistent(
        (truth, clusters, c, k) in labelled(),
        one_to_one in any::<bool>(),
    ) {
        let mapping = if one_to_one { Mapping::OneToOne } else { Mapping::Majority };
        let e = evaluate(&truth, &clusters, c, k, mapping).unwrap();
        let n = truth.len() as u64;
        prop_assert_eq!(e.confusion.total(), n);
        prop_assert_eq!(e.confusion.as_slice().iter().sum::<u64>(), n);
        prop_assert_eq!(e.contingency.total(), n);
        // Same as building it from the mapped labels.
        let predicted = e.mapping.apply(&clusters).unwrap();
        let direct = ConfusionMatrix::new(&truth, &predicted, c).unwrap();
        prop_assert_eq!(&e.confusion, &direct);
        prop_assert_eq!(e.accuracy, Accuracy::from_labels(&truth, &predicted).unwrap());
        prop_assert_eq!(e.accuracy.correct(), e.confusion.trace());
        // Rows sum to the class sizes.
        let stats = e.confusion.class_stats();
        prop_assert_eq!(
            stats.iter().map(|s| s.support).collect::<Vec<_>>(),
            e.contingency.class_sizes()
        );
        prop_assert_eq!(stats.iter().map(|s| s.predicted).sum::<u64>(), n);
    }

    #[test]
    fn majority_is_at_least_one_to_one((truth, clusters, c, k) in labelled()) {
        let a = evaluate(&truth, &clusters, c, k, Mapping::OneToOne).unwrap();
        let b = evaluate(&truth, &clusters, c, k, Mapping::Majority).unwrap();
        prop_assert!(b.accuracy.correct() >= a.accuracy.correct());
    }

    #[test]
    fn scores_match_their_definitions((truth, clusters, c, k) in labelled()) {
        let t = Contingency::new(&truth, &clusters, c, k).unwrap();
        prop_assert!((t.ari() - naive_ari(&truth, &clusters)).abs() < 1e-10);
        prop_assert!((t.nmi() - naive_nmi(&truth, &clusters)).abs() < 1e-10);
        prop_assert!((-0.5 - 1e-12..=1.0).contains(&t.ari()));
        prop_assert!((0.0..=1.0 + 1e-12).contains(&t.nmi()));
        // Both are symmetric in their arguments.
        let swapped = Contingency::new(&clusters, &truth, k, c).unwrap();
        prop_assert!((t.nmi() - swapped.nmi()).abs() < 1e-12);
        prop_assert!((t.ari() - swapped.ari()).abs() < 1e-12);
    }

    #[test]
    fn format_percent_is_the_rounded_percentage(total in 1u64..100_000, frac in 0.0f64..=1.0) {
        let correct = (total as f64 * frac) as u64;
        let a = Accuracy::from_labels(
            &vec![0; total as usize],
            &(0..total).map(|i| u32::from(i >= correct)).collect::<Vec<_>>(),
        ).unwrap();
        prop_assert_eq!(a.correct(), correct);
        let printed: f64 = a.format_percent().parse().unwrap();
        prop_assert!((printed - a.percent()).abs() <= 0.005 + 1e-9);
        prop_assert_eq!(a.format_percent().split('.').nth(1).map(str::len), Some(2));
    }
}

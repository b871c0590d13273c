"""Where each scorecard claim comes from: the paper's own words, or the book's own test.

Every row of a chapter's scorecard names its source (:class:`Source`):

- ``paper``: the claim is the paper's; ``quote`` holds its words verbatim, as they stand in the
  text in ``shared/papers/`` (OCR and all), and ``where`` says where (section, table, figure,
  equation);
- ``ours``: the book's own test (a cross-check with a stronger attack, a sanity check, a
  correlation across chapters); ``note`` says what it tests, and ``quote``/``where`` may give the
  passage that motivates it.

:data:`CLAIMS` maps each chapter's claim ids (``fnmatch`` patterns, first match wins) to their
source. :func:`quote_in_text` is the check ``tests/test_sources.py`` makes of every quote against
the paper's text.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

PAPER = "paper"
OURS = "ours"

# The text each chapter reproduces, in shared/papers/ (the stabilized-gradients chapter has only
# a published summary of the critique).
PAPER_FILES = {
    "boundary_tilting": "tanay-griffin-2016-boundary-tilting.txt",
    "saturating_networks": "nayebi-ganguli-2017-saturating-networks.txt",
    "stabilized_gradients": "summary-of-nayebi-ganguli-with-critique.txt",
    "adversarial_spheres": "gilmer-2018-adversarial-spheres.txt",
    "smooth_codes": "schaeffer-2020-smooth-neural-codes.md",
}


@dataclass(frozen=True)
class Source:
    """A claim's source: ``kind`` is ``paper`` or ``ours``; ``paper_file`` names the text in
    ``shared/papers/`` that ``quote`` is from (empty: no quote)."""

    kind: str
    quote: str = ""
    where: str = ""
    note: str = ""
    paper_file: str = ""

    def label(self) -> str:
        """One line for a table: ``paper (where)`` or ``ours``."""
        return f"paper ({self.where})" if self.kind == PAPER else OURS


def paper(quote: str, where: str, chapter_file: str) -> Source:
    if not quote.strip() or not where.strip():
        raise ValueError("a paper's claim needs its words (quote) and where they stand")
    return Source(PAPER, quote, where, paper_file=chapter_file)


def ours(note: str, quote: str = "", where: str = "", paper_file: str = "") -> Source:
    if not note.strip():
        raise ValueError("our own test needs a note that says what it tests")
    if quote and not paper_file:
        raise ValueError("a motivating quote needs the paper it is from")
    return Source(OURS, quote, where, note, paper_file)


_T, _N, _S = (PAPER_FILES[k] for k in ("boundary_tilting", "saturating_networks", "stabilized_gradients"))
_G, _C = PAPER_FILES["adversarial_spheres"], PAPER_FILES["smooth_codes"]
_TABLE1 = {
    "vanilla": "VANILLA 97.6% 0% 98.1% 0.41% 99.35% 5.62%",
    "adversarial": "ADVERSARIAL 92.27% 81.71% 92.29% 91.04% 99.32% 83.83%",
    "saturated": "SATURATED 97.01% 94.43% 95.24% 94.59% 99.33% 98.45%",
}
_CRITIQUE = (
    "They discuss a variant of the fast sign gradient method (FSGM) with stabilized "
    "gradients which is able to fool saturated networks."
)

CLAIMS: dict[str, dict[str, Source]] = {
    "boundary_tilting": {
        "toy.weak_regularization_tilts": paper(
            "L2 regularization controls the tilting angle of the boundary.",
            "Adversarial Examples in Linear Classification (after the toy problem)",
            _T,
        ),
        "svm.train_error_falls_with_lambda": paper(
            "errtrain is minimized when λ is small and dadv is maximized when λ is large.", "Example: SVM on MNIST", _T
        ),
        "svm.dadv_rises_with_lambda": paper(
            "errtrain is minimized when λ is small and dadv is maximized when λ is large.", "Example: SVM on MNIST", _T
        ),
        "svm.test_error_minimum_inside": paper(
            "Note that the test error is minimized for an intermediate level of regularization λoptimal.",
            "Example: SVM on MNIST",
            _T,
        ),
        "lenet.test_error_*_wd": paper(
            "performs slightly better than LeNetlow (final test error of 1.2% versus 1.6%).",
            "Example: LeNet on MNIST",
            _T,
        ),
        "lenet.high_beats_low": paper(
            "performs slightly better than LeNetlow (final test error of 1.2% versus 1.6%).",
            "Example: LeNet on MNIST",
            _T,
        ),
        "lenet.high_train_error_near_test_error": paper(
            "LeNethigh is less overfitted (the train and test errors are approximately equal at the "
            "end of the training)",
            "Example: LeNet on MNIST",
            _T,
        ),
        "lenet.perturbation_norm_ratio": paper(
            "the adversarial perturbations have higher L2 norms and are more meaningful for human observers.",
            "Example: LeNet on MNIST, after footnote 10",
            _T,
        ),
    },
    "saturating_networks": {
        **{
            f"table1.*.{mode}.{kind}": paper(line, f"Table 1, row {mode.upper()} ({kind})", _N)
            for mode, line in _TABLE1.items()
            for kind in ("clean", "fgsm")
        },
        "weights.kurtosis_higher_when_saturated": paper(
            "saturating networks had high kurtosis weight distributions in every layer when "
            "compared to their vanilla counterparts",
            "section 8 (and section 5, Figure 1)",
            _N,
        ),
        "rdm.between_class_larger_when_saturated": paper(
            "between class dissimilarities in the off-diagonal blocks are much larger in the "
            "saturated network than in the vanilla network",
            "section 5, Figure 3 (the sigmoid MLP's; the ReLU MLP's is Figure 7, in the SM)",
            _N,
        ),
        "geometry.fewer_sensitive_directions_when_saturated": paper(
            "in vanilla networks, at probabilistic transition points, multiple singular values "
            "inflate, while in saturating networks, only one singular value does so",
            "section 6, Figure 4",
            _N,
        ),
        "adam.vanilla_fooled_within_10_steps": paper("usually within less than 10 iterations", "section 7, Adam", _N),
        "adam.saturated_3_to_7_fails": paper(
            "where we were unable to get the saturated network to misclassify", "section 7, Adam", _N
        ),
        "lbfgs.vanilla_success_rate": paper(
            "we can always find an adversarial image to fool the vanilla network to misclassify as "
            "the intended target class",
            "section 7, Figures 5 and 8",
            _N,
        ),
        "lbfgs.vanilla_within_2_iterations": paper("(and usually within 1-2 iterations)", "section 7, L-BFGS", _N),
        "lbfgs.saturated_success_rate": paper(
            "even starting with the least confident source image, we were, in the majority of "
            "cases, unable to fool the network",
            "section 7, Figure 5",
            _N,
        ),
        "lbfgs.saturated_most_confident_successes": paper("only 5 such cases", "section 7, Figure 8", _N),
        "kurtosis.pearson7_gain": paper(
            "increases the scaled ratio by almost 40% from the Gaussian baseline",
            'section 8 (the text says "In Figure 8"; the figure is Figure 6)',
            _N,
        ),
        "kurtosis.learned_weights_gain": paper(
            "the scaled ratio can increase by as much as 300% from when we sample from the "
            "distribution of the weights in that same layer for the vanilla network",
            "section 8",
            _N,
        ),
    },
    "stabilized_gradients": {
        "stabilized_fgsm.*.saturated": paper(_CRITIQUE, "the summary's last paragraph", _S),
        "masking.zero_gradient_share.*.saturated": ours(
            "whether FGSM's float32 input gradient is exactly zero on most test images (our "
            "reading of the critique: the summary names no mechanism)",
            _CRITIQUE,
            "the summary's last paragraph",
            _S,
        ),
        "pgd.*": ours(
            "Table 1's FGSM accuracy against our PGD (40 steps, logit margin): a stronger attack than any the paper ran"
        ),
        "transfer.*.saturated": ours(
            "FGSM examples made on the vanilla network, against Table 1's saturated FGSM figure"
        ),
        "gradient_free.*": ours("SPSA, which needs no gradient, against Table 1's saturated FGSM figure"),
        "sanity.large_eps_fools_all": ours(
            "every network falls to (near) zero at a large budget: a check of the attacks themselves"
        ),
    },
    "adversarial_spheres": {
        "relu.no_errors_on_random_samples": paper(
            "We evaluated the final model on 10 million uniform samples from each sphere - 20 "
            "million points in total and observed no errors on these finite samples.",
            "section 3",
            _G,
        ),
        "relu.manifold_nearest_error_distance": paper(
            "The mean L2 distance to the nearest error on the data manifold is 0.18", "section 3", _G
        ),
        "relu.between_spheres_nearest_error_distance": paper(
            "then we get an average L2 distance of 0.0796", "section 3", _G
        ),
        "relu.between_spheres_error_norm": paper("and an average norm of 1.07", "section 3", _G),
        "relu.max_dim_without_adversarial_errors": paper(
            "the highest dimension we were able to train the ReLU net where no errors can be found "
            "adversarially (local or not) seems to be around d = 60.",
            "section 3",
            _G,
        ),
        "quad.online_alphas_all_correct": paper(
            "we arrive at the perfect solution: all of the αi ∈ [1/R2, 1] and there are no adversarial examples.",
            "section 4",
            _G,
        ),
        "quad.finite_alphas_incorrect": paper("394 out of 500 of the learned αi are incorrect", "section 4", _G),
        "quad.clt_error_rate": paper(
            "The estimated error rate of this particular model to be 10-11.",
            'section 4 ("10-11" is 10^-11 in our OCR copy)',
            _G,
        ),
        "quad.perfect_init_errors_reappear": paper(
            "the worst case rapidly increases and adversarial examples can once again be found "
            "after 1000 training steps.",
            "section 4, Figure 3 (right)",
            _G,
        ),
        "quad.perfect_init_errors_after_1000_steps": paper(
            "adversarial examples can once again be found after 1000 training steps.", "section 4, Figure 3 (right)", _G
        ),
        "dims.fraction_needed_d3000": paper(
            "if d = 3000 then the model can obtain an estimated accuracy of 10-14 while only "
            "looking at 50% of the input.",
            "section 4.1, Figure 4",
            _G,
        ),
        "tradeoff.near_cap_bound": paper(
            "the trade off between the average distance to nearest error and the amount of error "
            'is close to what is optimal if all the errors were concentrated near a "cap"',
            "section 5, Figure 5",
            _G,
        ),
        "quad.clt_matches_monte_carlo": ours(
            "our implementation of Proposition 4.1 against Monte Carlo on random alphas",
            "However, we found the CLT closely approximates the error rate in the regime where it "
            "is large enough to estimate numerically.",
            "section 4",
            _G,
        ),
    },
    "smooth_codes": {
        "imagenet.alpha_per_model": paper(
            "3.1 CNNs Trained on ImageNet Decay Faster Than Fractal Bound", "section 3.1", _C
        ),
        "cifar.alpha_clean": paper(
            "On unmodified CIFAR-10, the model has a similar slope ( $\\alpha = 1.03$ )", "section 3.2.2", _C
        ),
        "robust.principal_eigenvalue_below_cifar_model": paper(
            "The values of the principal eigenvalues of the eigenspectra are seven orders of "
            "magnitude less than those obtained with the CIFAR-10 model",
            "section 3.3",
            _C,
        ),
        "noise.alpha_rises_with_noise": paper(
            "The slope increases as we add more noise, and is highest for the pure noise input.",
            'section 3.2.1 (said of ResNet50; of CIFAR-10: "we observed a similar behavior as for '
            'ImageNet, but the changes were less pronounced")',
            _C,
        ),
        "cifar.alpha_insensitive_to_dimension": paper(
            "whereas the model declined to  $\\alpha = 1.21, 1.20, 1.20$", "section 3.2.2", _C
        ),
        "cifar.alpha_zca": paper(
            "When presented with ZCA whitened CIFAR-10, the model changed most significantly ( $\\alpha = 1.51$ )",
            "section 3.2.2",
            _C,
        ),
        "ilyas.spectra_similar_for_cifar_model": paper(
            "the eigenspectra for all four datasets were identical to each other for the CIFAR-10 model",
            "section 3.2.3, Figure 5",
            _C,
        ),
        "robust.spectra_differ_across_eps": paper(
            "The behaviour exhibited by the robust dataset also differs between the four models.",
            "section 3.3, Figure 6 (right)",
            _C,
        ),
        "robust.datasets_matter_more_than_for_cifar_model": paper(
            "unlike in the case of the CIFAR-10 model, the Robustness models exhibit slightly "
            "different eigenspectra decays with the four Ilyas et al datasets",
            "section 3.3, Figure 6 (left)",
            _C,
        ),
        "robust.alpha_near_4": paper("with the slopes lying in the vicinity of 4", "section 3.3", _C),
        "robust.eps0_model_steep": paper(
            "The steep decay in the slope is also present in the  $\\epsilon = 0$  model", "section 3.3", _C
        ),
        "penalty.covariance_moves_alpha": paper(
            "penalizing off-diagonal covariance decreased  $\\alpha$", "section 3.4, Figure 7 (left)", _C
        ),
        "penalty.jacobian_unrelated_to_accuracy": paper(
            "Jacobian penalization appears to have no relationship with accuracy.", "Figure 7 caption (right)", _C
        ),
        "penalty.most_robust_cell": paper(
            "had no Jacobian penalization and covariance penalization of 0.01", "section 3.4", _C
        ),
    },
    "synthesis": {
        "synthesis.tilting_predicts_robustness.*": ours(
            "Spearman correlation of the local tilting angle with L2 PGD accuracy across the book's "
            "networks: a linear, binary result carried to deep networks",
            "The adversarial example phenomenon is minimized by the nearest centroid classifier",
            "Adversarial Distance and Tilting Angle",
            _T,
        ),
        "synthesis.alpha_predicts_robustness.*": ours(
            "Stringer et al.'s hypothesis, which Schaeffer et al. test and reject: a larger alpha, more robust",
            "even fractal  $\\alpha$  values can be more robust than non-fractal  $\\alpha$  values",
            "Schaeffer et al., section 4",
            _C,
        ),
        "synthesis.kurtosis_predicts_robustness.*": ours(
            "Spearman correlation of the weights' excess kurtosis with L2 PGD accuracy",
            "kurtotic weight distributions, including the weight distributions learned by our "
            "saturating networks, can improve robustness to adversarial examples",
            "Nayebi & Ganguli, section 8",
            _N,
        ),
        "synthesis.ratio14_predicts_robustness.*": ours(
            "Spearman correlation of the gain of ratio (14) with L2 PGD accuracy",
            "Thus if the l1 norm in the denominator is small, then the network is adversarially robust",
            "Nayebi & Ganguli, section 8, after eq. (14)",
            _N,
        ),
        "synthesis.noise_error_predicts_robustness.*": ours(
            "Spearman correlation of the error in Gaussian noise with L2 PGD accuracy (the noise "
            "form is Ford et al.'s, not in our texts)",
            "a fundamental tradeoff between the amount of test error and the average distance to nearest error",
            "Gilmer et al., abstract",
            _G,
        ),
        "synthesis.alpha_rises_with_adversarial_training.*": ours(
            "whether adversarial training raises alpha on MNIST (Schaeffer et al. state no direction)",
            "The behaviour exhibited by the robust dataset also differs between the four models.",
            "Schaeffer et al., section 3.3",
            _C,
        ),
    },
}


def source_of(chapter: str, claim_id: str, table: dict | None = None) -> Source:
    """The source of ``claim_id`` on ``chapter``'s scorecard, from ``table`` (``{id pattern:
    Source}``, default ``CLAIMS[chapter]``); a clear error when none is known."""
    for pattern, src in (CLAIMS.get(chapter, {}) if table is None else table).items():
        if fnmatch.fnmatchcase(claim_id, pattern):
            return src
    raise KeyError(
        f"claim {claim_id!r} of {chapter} has no source: add it to "
        f"companion.book.sources.CLAIMS[{chapter!r}] (paper(...) with the paper's words, or "
        "ours(...) for the book's own test)"
    )


def normalize(text: str, join_hyphens: bool = True) -> str:
    """Text as quotes are matched: white space folded to one space and, with ``join_hyphens``,
    words broken across lines by OCR ("in-\\ncreased") joined."""
    if join_hyphens:
        text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text).strip()


def quote_in_text(quote: str, text: str) -> bool:
    """Whether ``quote`` occurs in ``text`` up to white space and OCR's line-break hyphens."""
    q = normalize(quote)
    return q in normalize(text) or q in normalize(text, join_hyphens=False)


def papers_dir() -> Path:
    """``shared/papers/`` beside the project (``$COMPANION_PAPERS_DIR`` overrides it)."""
    import os

    root = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("COMPANION_PAPERS_DIR") or root.parent / "shared" / "papers")


# --- the `paper` profile against what each paper states ----------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: ``keys`` name it in companion.profiles (``()`` for a fixed part of the
    code, described by ``fixed``); ``quote`` is the paper's words ("" when it does not state it)."""

    label: str
    keys: tuple
    quote: str = ""
    where: str = ""
    fixed: str = ""


STATED_SETTINGS: dict[str, list[Setting]] = {
    "boundary_tilting": [
        Setting("SVM digit pairs", ("svm_pairs",), "For each possible pair of digit classes", "Example: SVM on MNIST"),
        Setting(
            "SVM images per class",
            ("svm_per_class",),
            "training set of 3000 images per class.",
            "Example: SVM on MNIST",
        ),
        Setting("λ grid step (log10)", ("svm_lambda_step",), "α ranging from −1 to 7 by steps of 0.1.", "footnote 6"),
        Setting("LeNet epochs", ("lenet_epochs",), "we train for 50 epochs", "Example: LeNet on MNIST"),
        Setting("LeNet training images", ("lenet_train_size",)),
        Setting(
            "LeNet batch, learning rate, momentum",
            (),
            "use a batch size of 300",
            "Example: LeNet on MNIST",
            "300, 0.0005, 0.9 (boundary_tilting.experiments.LENET_TRAINING)",
        ),
    ],
    "saturating_networks": [
        Setting(
            "MLP width",
            ("width",),
            "we varied the number of hidden units for the MLPs to be between 200-2000",
            "section 4",
        ),
        Setting("MLP epochs", ("epochs",)),
        Setting("CNN epochs, training images", ("cnn_epochs", "cnn_train_size")),
        Setting(
            "λ schedules searched",
            ("search",),
            "this was progressively increased to λmax = 1.74 in steps of size 0.001 for the sigmoidal MLP",
            "section 4",
        ),
        Setting("Adam attack steps (all pairs)", ("adam_steps",)),
        Setting(
            "Adam attack steps, 3 → 7",
            ("adam_steps_3_to_7",),
            "even in the most extreme case where we ran Adam for 30 million iterations",
            "section 7",
        ),
        Setting(
            "L-BFGS iterations",
            ("lbfgs_iterations",),
            "we ran L-BFGS for 1000 iterations on both the vanilla network and the saturated network",
            "section 7",
        ),
        Setting(
            "RDM images per class",
            ("rdm_per_class",),
            "For each of the 10 classes, we chose 100 test set examples at random",
            "section 5",
        ),
        Setting(
            "kurtosis vectors: dimension, count",
            ("kurtosis_dim", "kurtosis_vectors"),
            "we sampled unit norm random vectors of dimension 20000",
            "section 8",
        ),
    ],
    "stabilized_gradients": [
        Setting("evaluation images (MLPs, CNN)", ("eval_size", "cnn_eval_size")),
        Setting("PGD steps, restarts", ("pgd_steps", "pgd_restarts")),
        Setting("SPSA images, steps, samples", ("spsa_size", "spsa_steps", "spsa_samples")),
    ],
    "adversarial_spheres": [
        Setting("dimension d", ("d",), "Our first experiment used an input dimensionality of d = 500.", "section 3"),
        Setting(
            "ReLU network training steps",
            ("relu_steps",),
            "We use Adam optimizer (Kingma & Ba, "
            "2014) for 1 million training steps with mini batch size 50 and learning rate 0.0001.",
            "section 3",
        ),
        Setting(
            "random samples evaluated (per sphere)",
            ("eval_samples",),
            "We evaluated the final model on 10 million uniform samples from each sphere",
            "section 3",
        ),
        Setting(
            "quadratic network steps, learning rate",
            ("quad_steps", "quad_learning_rate"),
            "using the same setup as in Section 3",
            "section 4",
        ),
        Setting(
            "fixed training set",
            ("fixed_train_size",),
            "trained on 100k examples",
            'Figure 3 caption (section 4 prints "N = 106", 10^6)',
        ),
        Setting("dimension sweep: dims, steps", ("sweep_dims", "sweep_steps")),
        Setting("Figure 5 training sets", ("tradeoff_sizes",), "N ∈ {1000, 5000, 10000, 100000, ∞}", "section 5"),
        Setting(
            "Figure 5 error-rate samples",
            ("tradeoff_eval",),
            "The error rate is estimated from 100000 random samples from the data distribution",
            "section 5",
        ),
        Setting(
            "Figure 5 distance: points, steps",
            ("tradeoff_points", "attack_steps"),
            "the average distance is estimated by 100 random points and running PGD for 1000 steps",
            "section 5",
        ),
        Setting("Figure 5 training length", ("tradeoff_steps",)),
    ],
    "smooth_codes": [
        Setting("CIFAR-10 model epochs", ("epochs",)),
        Setting(
            "penalty grid (c1, c2)",
            ("penalty_grid",),
            "For covariance penalization  $c_1 \\in "
            "\\{0, 0.01, 0.05, 0.1\\}$  and Jacobian penalization  $c_2 \\in \\{0, 0.5, 1, 3\\}$",
            "section 3.4",
        ),
        Setting(
            "penalty networks: epochs, images",
            ("penalty_epochs", "penalty_train_size"),
            "we trained the same CIFAR-10 model to 92% accuracy",
            "section 3.4",
        ),
        Setting(
            "PGD images, steps",
            ("pgd_size", "pgd_steps"),
            "We then generated 3000 adversarial images using PGD with the following parameters",
            "section 3.4 (the sentence announces parameters the paper never gives)",
        ),
        Setting("Robustness models' eps", ("robust_eps",), "There are four models in this class", "section 2.2"),
        Setting(
            "ImageNet models",
            ("imagenet",),
            "AlexNet [19], MnasNet [34], VGG [29], ResNet [13], GoogLeNet [32]",
            "section 2.2",
        ),
        Setting("Gaussian noise δ", ("noise",)),
        Setting(
            "images for a spectrum",
            ("eval_size",),
            "We then fed 3000 random ImageNet images into each model",
            "section 3.1 (ImageNet)",
        ),
    ],
}


class SettingsTable:
    """The ``paper`` and ``quick`` profiles beside what a paper states, shown as an HTML table in
    the book and as text (checked by the references)."""

    def __init__(self, chapter: str):
        from companion.profiles import SETTINGS

        self.chapter = chapter
        self.rows = []
        for s in STATED_SETTINGS[chapter]:
            values = [
                ", ".join(_short(SETTINGS[chapter][p][k]) for k in s.keys) if s.keys else s.fixed
                for p in ("paper", "quick")
            ]
            stated = f"“{s.quote}” ({s.where})" if s.quote else "not stated"
            self.rows.append((s.label, stated, *values))

    def __repr__(self) -> str:
        return "\n".join(
            f"{label}\n  paper: {stated}\n  `paper` profile: {paper}\n  `quick` profile: {quick}"
            for label, stated, paper, quick in self.rows
        )

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{h}</th>" for h in ("setting", "the paper", "<code>paper</code>", "<code>quick</code>"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in self.rows)
        return f'<table class="settings-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _short(value) -> str:
    """A setting's value as a reader wants it: long tuples summarized."""
    if isinstance(value, (tuple, list)) and len(value) > 6:
        return f"{len(value)} values ({_short(value[0])} … {_short(value[-1])})"
    if isinstance(value, dict):
        return f"{sum(len(v) for v in value.values())} candidates over {len(value)} networks"
    return str(value)

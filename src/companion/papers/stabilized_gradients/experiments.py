"""Accuracy under attack, and the usual signs of gradient masking (Athalye et al. 2018;
Carlini et al. 2019), for the stabilized-gradients chapter.

All accuracies are fractions of the evaluated images; inputs are ``(n, ...)`` in [0, 1], labels
``(n,)`` integers. The networks come as ``nets``, ``{(arch, mode): model}``, each evaluated on
``evaluation_set(arch)``, a function returning that architecture's ``(x, y)``. The attacks'
settings are passed in (the budget is the saturating chapter's ``FGSM_EPS``): this module does not
read another chapter's.
"""

from __future__ import annotations

from companion import attacks, evaluation

PLAIN_LOSSES = ("cross_entropy", "clipped_cross_entropy")  # the two ways of writing FGSM's cross-entropy


def masking_signs(
    fgsm: float,
    pgd: float,
    pgd_one_restart: float,
    transfer: float,
    largest_eps_accuracy: float,
    tolerance: float = 0.02,
) -> dict:
    """The four checks, each True where it points to gradient masking:

    * single-step stronger than iterative (FGSM accuracy below PGD's);
    * black-box stronger than white-box (transfer accuracy below PGD's);
    * accuracy does not reach (near) zero at the largest budget;
    * random restarts help (accuracy with restarts clearly below a single start).
    """
    return {
        "single_step_stronger": fgsm < pgd - tolerance,
        "black_box_stronger": transfer < pgd - tolerance,
        "no_zero_at_large_eps": largest_eps_accuracy > 0.05,
        "restarts_help": pgd < pgd_one_restart - tolerance,
    }


def network_gradient_shares(nets: dict, evaluation_set) -> dict:
    """:func:`companion.evaluation.gradient_shares` of every network on its evaluation set, in the
    order of ``nets``: ``{(arch, mode): {loss: {"zero", "subnormal"}}}``."""
    return {(arch, mode): evaluation.gradient_shares(net, *evaluation_set(arch)) for (arch, mode), net in nets.items()}


def fgsm_accuracies(nets: dict, evaluation_set, *, eps: float) -> dict:
    """Accuracy of every network under FGSM of budget ``eps`` with each loss of
    :data:`companion.evaluation.UNTARGETED_LOSSES` (the two cross-entropies, then the stabilized
    logit margin): ``{(arch, mode): {loss: accuracy}}``."""
    out = {}
    for (arch, mode), net in nets.items():
        x, y = evaluation_set(arch)
        out[arch, mode] = {
            loss: evaluation.fgsm_accuracy(net, x, y, eps, loss) for loss in evaluation.UNTARGETED_LOSSES
        }
    return out


def plain_fgsm(accuracies: dict) -> float:
    """Accuracy under "plain FGSM": the better of the two cross-entropies for the network (the
    robustness a reader of the paper could have seen). ``accuracies``: ``{loss: accuracy}`` of one
    network."""
    return max([accuracies[loss] for loss in PLAIN_LOSSES])


def pgd_accuracies(nets: dict, evaluation_set, *, eps: float, steps: int, restarts: int, seed: int) -> tuple:
    """Accuracy of every network under PGD on the logit margin
    (:func:`companion.evaluation.pgd_accuracy`), with ``restarts`` starts drawn from ``seed`` and
    with the single start at the image: ``(restarted, single)``, each ``{(arch, mode): accuracy}``."""
    restarted, single = {}, {}
    for (arch, mode), net in nets.items():
        x, y = evaluation_set(arch)
        restarted[arch, mode] = evaluation.pgd_accuracy(net, x, y, eps, steps, restarts, seed)
        single[arch, mode] = evaluation.pgd_accuracy(net, x, y, eps, steps, 1)
    return restarted, single


def transfer_accuracies(
    nets: dict, evaluation_set, *, eps: float, steps: int, source: str = "vanilla", extra_targets: dict | None = None
) -> dict:
    """Accuracy under PGD examples crafted on each architecture's ``source`` network and shown to
    its other networks (:func:`companion.evaluation.transfer_accuracy`, one crafting per
    architecture), and to ``extra_targets`` ``{(arch, name): model}`` of that architecture:
    ``{(arch, mode or name): accuracy}``, architectures in the order of ``nets``."""
    out = {}
    for arch in dict.fromkeys(arch for arch, _ in nets):
        x, y = evaluation_set(arch)
        targets = {mode: net for (a, mode), net in nets.items() if a == arch and mode != source}
        targets.update({name: model for (a, name), model in (extra_targets or {}).items() if a == arch})
        accuracies = evaluation.transfer_accuracy(nets[arch, source], list(targets.values()), x, y, eps, steps)
        out.update({(arch, mode): acc for mode, acc in zip(targets, accuracies)})
    return out


def spsa_accuracy(model, x, y, *, eps: float, steps: int, samples: int, seed: int) -> float:
    """Accuracy under the gradient-free SPSA attack (:func:`companion.attacks.spsa`) on ``x``
    ``(n, ...)``, ``y`` ``(n,)``."""
    return evaluation.accuracy(model, attacks.spsa(model, x, y, eps=eps, steps=steps, samples=samples, seed=seed).x, y)


def pgd_curves(nets: dict, evaluation_set, eps_grid, *, steps: int, measured_eps: float, measured: dict) -> dict:
    """PGD accuracy (one start) of every network at each budget of ``eps_grid``:
    ``{(arch, mode): [accuracy per eps]}``; at ``measured_eps`` the accuracy already measured,
    ``measured[(arch, mode)]``, is taken instead of attacking again."""
    return {
        key: [
            measured[key]
            if eps == measured_eps
            else evaluation.pgd_accuracy(net, *evaluation_set(key[0]), eps, steps, 1)
            for eps in eps_grid
        ]
        for key, net in nets.items()
    }


def attack_battery(
    model,
    x,
    y,
    *,
    eps: float,
    pgd_steps: int,
    pgd_restarts: int,
    seed: int,
    transfer: float,
    largest_eps: float,
    spsa_set: tuple,
    spsa_steps: int,
    spsa_samples: int,
) -> dict:
    """Every attack of the chapter on one network, ``{attack: accuracy}`` in the order printed:
    clean; FGSM with each loss; PGD on the cross-entropy and on the logit margin (``pgd_restarts``
    starts from ``seed``); PGD with one start; ``transfer``, the accuracy under transfer from the
    vanilla MLP (measured with the nine networks); PGD at ``largest_eps``; SPSA on ``spsa_set``
    ``(x (m, ...), y (m,))``. All at budget ``eps`` but the one at ``largest_eps``."""
    attack = {"clean": evaluation.accuracy(model, x, y)}
    for loss in evaluation.UNTARGETED_LOSSES:
        attack[f"FGSM, {loss.replace('_', ' ')}"] = evaluation.fgsm_accuracy(model, x, y, eps, loss)
    attack[f"PGD on the cross-entropy ({pgd_restarts} starts)"] = evaluation.pgd_accuracy(
        model, x, y, eps, pgd_steps, pgd_restarts, seed, loss="cross_entropy"
    )
    attack[f"PGD on the logit margin ({pgd_restarts} starts)"] = evaluation.pgd_accuracy(
        model, x, y, eps, pgd_steps, pgd_restarts, seed
    )
    attack["PGD, 1 start"] = evaluation.pgd_accuracy(model, x, y, eps, pgd_steps, 1)
    attack["transfer from the vanilla MLP"] = transfer
    attack[f"PGD at ε = {largest_eps}"] = evaluation.pgd_accuracy(model, x, y, largest_eps, pgd_steps, 1)
    x_spsa, y_spsa = spsa_set
    attack[f"SPSA ({len(y_spsa)} images)"] = spsa_accuracy(
        model, x_spsa, y_spsa, eps=eps, steps=spsa_steps, samples=spsa_samples, seed=seed
    )
    return attack

"""Where a batch's tasks ask to run: the GPU for the estimates when 3DCrowdNet runs, none for the clean-up
unless the options named CUDA; what was asked by flag wins."""

from __future__ import annotations

from inference_server.batch.runner import Resources, place
from inference_server.pipeline.options import CaptureOptions


def test_3dcrowdnet_holds_a_gpu_for_its_estimates_and_the_clean_up_fits_on_the_cpu():
    placed = place(Resources(), CaptureOptions(), estimator="crowdnet", cluster_gpus=4)
    assert placed.estimate == {"num_cpus": 1.0, "num_gpus": 1.0}
    assert placed.finish == {"num_cpus": 1.0, "num_gpus": 0.0} and placed.fit_device == "cpu"


def test_no_gpu_is_asked_for_when_the_cluster_has_none_the_lift_runs_or_the_cpu_was_chosen():
    assert place(Resources(), CaptureOptions(), estimator="crowdnet", cluster_gpus=0).estimate["num_gpus"] == 0
    assert place(Resources(), CaptureOptions(), estimator="lift", cluster_gpus=2).estimate["num_gpus"] == 0
    on_cpu = CaptureOptions(device="cpu")
    assert place(Resources(), on_cpu, estimator="crowdnet", cluster_gpus=2).estimate["num_gpus"] == 0


def test_fractions_and_cpus_asked_for_are_what_the_estimates_get():
    placed = place(Resources(cpus=2, gpus=0.25), CaptureOptions(), estimator="crowdnet", cluster_gpus=1)
    assert placed.estimate == {"num_cpus": 2, "num_gpus": 0.25} and placed.finish["num_gpus"] == 0


def test_cuda_named_in_the_options_keeps_the_fit_on_the_gpu_and_without_a_fit_nothing_moves():
    named = place(Resources(gpus=0.5), CaptureOptions(device="cuda:0"), estimator="crowdnet", cluster_gpus=1)
    assert named.finish["num_gpus"] == 0.5 and named.fit_device is None
    no_fit = place(Resources(), CaptureOptions(device="cuda", temporal_fit=False), estimator="crowdnet",
                   cluster_gpus=1)  # fmt: skip
    assert no_fit.finish["num_gpus"] == 0 and no_fit.fit_device is None

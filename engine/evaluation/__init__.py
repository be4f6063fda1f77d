"""Evaluation: the official Y-channel metrics, classical baselines, the PSNR/SSIM evaluation and the visual
grid of real photos (`python -m engine.evaluation.evaluate`, `python -m engine.evaluation.visual_grid`)."""

from engine.evaluation.metrics import psnr_y, ssim_y

__all__ = ["psnr_y", "ssim_y"]

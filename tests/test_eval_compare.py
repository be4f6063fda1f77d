"""The shipping rule in code: engine.evaluation.compare (pure Python, no model needed)."""

import json

import pytest

from engine.evaluation.compare import IncomparableResults, compare, main, render


def _results(psnr: dict[str, list[float]], seed_offset: int = 0, split: str = "validation") -> dict:
    records = []
    for task, values in psnr.items():
        for i, v in enumerate(values):
            records.append({"set": "kodak24", "photo": f"kodim{i:02d}.png", "task": task, "seed": i + seed_offset,
                            "size": [256, 256], "scores": {"ours-best": {"psnr": v, "ssim": 0.5}}})
    return {"protocol": {"tasks": list(psnr), "crop": 256, "split": split, "model": {"file": "m.safetensors"}},
            "synthetic": {"records": records}}


def test_a_candidate_that_improves_the_mean_without_a_large_drop_ships():
    shipped = _results({"low-light": [20.0, 22.0, 24.0], "haze": [18.0, 19.0, 20.0]})
    cand = _results({"low-light": [20.5, 22.5, 24.5], "haze": [17.8, 18.8, 19.8]})
    cmp = compare(shipped, cand)
    assert cmp["passes"] and cmp["mean_shipped"] == pytest.approx(20.5)
    assert cmp["mean_candidate"] == pytest.approx(20.65)
    ll, hz = cmp["tasks"]
    assert ll["change"] == pytest.approx(0.5) and ll["se"] == pytest.approx(0.0) and ll["better"] == 3
    assert hz["change"] == pytest.approx(-0.2) and hz["drop_ok"]
    assert "**ships**" in render(cmp)


def test_a_task_dropping_past_the_limit_blocks_shipping_even_when_the_mean_rises():
    shipped = _results({"low-light": [20.0, 22.0], "haze": [18.0, 20.0]})
    cand = _results({"low-light": [22.0, 24.0], "haze": [17.0, 20.0]})  # haze -0.5 exactly: allowed
    assert compare(shipped, cand)["passes"]
    cand = _results({"low-light": [22.0, 24.0], "haze": [17.0, 19.9]})  # haze -0.55
    cmp = compare(shipped, cand)
    assert not cmp["passes"] and cmp["why"] == "haze drops by more than 0.5 dB"
    hz = cmp["tasks"][1]
    assert hz["se"] == pytest.approx(0.45)  # sd of (-1, -0.1) / sqrt(2)
    assert hz["worst"] == pytest.approx(-1.0) and hz["best"] == pytest.approx(-0.1)
    assert "**✗**" in render(cmp) and "does not ship" in render(cmp)


def test_no_mean_gain_means_no_ship():
    same = _results({"low-light": [20.0, 21.0], "haze": [18.0, 19.0]})
    cmp = compare(same, same)
    assert not cmp["passes"] and "does not improve" in cmp["why"]


def test_results_on_different_inputs_are_refused():
    shipped = _results({"low-light": [20.0, 22.0], "haze": [18.0, 20.0]})
    with pytest.raises(IncomparableResults, match="seeds"):
        compare(shipped, _results({"low-light": [20.0, 22.0], "haze": [18.0, 20.0]}, seed_offset=7))
    with pytest.raises(IncomparableResults, match="different photos"):
        compare(shipped, _results({"low-light": [20.0, 22.0, 23.0], "haze": [18.0, 20.0, 1.0]}))
    with pytest.raises(IncomparableResults, match="split"):
        compare(shipped, _results({"low-light": [20.0, 22.0], "haze": [18.0, 20.0]}, split="test"))
    with pytest.raises(IncomparableResults, match="synthetic"):
        compare(shipped, {"protocol": {}, "synthetic": None})
    with pytest.raises(IncomparableResults, match="ours-fast"):
        compare(shipped, shipped, method="ours-fast")


def test_cli_exit_status_is_the_verdict(tmp_path, capsys):
    shipped, better, broken = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    shipped.write_text(json.dumps(_results({"low-light": [20.0, 22.0], "haze": [18.0, 20.0]})))
    better.write_text(json.dumps(_results({"low-light": [21.0, 23.0], "haze": [18.0, 20.0]})))
    broken.write_text("{not json")
    assert main([str(shipped), str(better)]) == 0
    assert "| low-light | 2 | 21.00 | 22.00 | +1.00 ± 0.00 |" in capsys.readouterr().out
    assert main([str(better), str(shipped)]) == 1
    capsys.readouterr()
    assert main([str(shipped), str(better), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["passes"] and out["tasks"][0]["change"] == pytest.approx(1.0)
    assert main([str(shipped), str(broken)]) == 2
    assert "cannot compare" in capsys.readouterr().err

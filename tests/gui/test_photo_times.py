"""app.photo_times: how long photos took, remembered between runs per way of restoring."""
import json

from app.photo_times import KEEP, MAX_WAYS, PhotoTimes, way
from app.settings import Settings
from engine.batch_time import Restored


def test_times_are_kept_per_way_of_restoring_and_read_back(tmp_path):
    path = tmp_path / "photo_times.json"
    fast, best = Settings(quality="fast"), Settings(quality="best")
    assert way(fast) != way(best) and way(fast) == way(Settings(quality="fast", format="png"))  # (saving: no)
    assert way(Settings(threads=2)) != way(Settings(threads=4)) and way(Settings(device="cpu")) != way(Settings())
    # "auto" is what the engine takes: a GPU whose driver failed one day does not share the CPU's times
    assert way(Settings(), cuda=False) == way(Settings(device="cpu")) != way(Settings(), cuda=True)
    assert way(Settings(), cuda=True) == way(Settings(device="cuda"))
    times = PhotoTimes(path)
    times.add(way(fast), Restored("rain", 12.5, (1.0, 1.0)))
    times.add(way(fast), Restored("haze", 3.0, None))
    times.add(way(best), Restored("rain", 30.0, (2.0, 2.0)))
    again = PhotoTimes(path)
    assert again.of(fast) == [Restored("rain", 12.5, (1.0, 1.0)), Restored("haze", 3.0, None)]
    assert again.of(best) == [Restored("rain", 30.0, (2.0, 2.0))] and again.of(Settings(quality="balanced")) == []


def test_only_the_latest_photos_and_ways_are_kept(tmp_path):
    times = PhotoTimes(tmp_path / "t.json")
    for k in range(KEEP + 7):
        times.add("one", Restored("rain", float(k), None))
    assert [r.seconds for r in times.of_way("one")] == [float(k) for k in range(7, KEEP + 7)]
    for k in range(MAX_WAYS + 3):
        times.add(f"way{k}", Restored("rain", 1.0, None))
    kept = PhotoTimes(tmp_path / "t.json")
    assert not kept.of_way("one") and not kept.of_way("way2") and kept.of_way("way3") and kept.of_way(f"way{MAX_WAYS + 2}")


def test_a_damaged_file_is_set_aside_and_the_times_start_again(tmp_path):
    path = tmp_path / "photo_times.json"
    for damaged in (b"{not json", json.dumps({"version": 1, "ways": {"x": [["rain", "slow", None]]}}).encode(),
                    json.dumps({"ways": {"x": [["rain", -1, None]]}}).encode(), b"[]"):
        path.write_bytes(damaged)
        times = PhotoTimes(path)
        assert times.of_way("x") == [] and not path.exists()
        assert any(p.name.startswith("photo_times.json.unreadable") for p in tmp_path.iterdir())
        times.add("x", Restored("rain", 1.0, None))  # and it is written again
        assert PhotoTimes(path).of_way("x") == [Restored("rain", 1.0, None)]


def test_a_folder_that_cannot_be_written_costs_only_the_remembering(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be")
    times = PhotoTimes(blocked / "photo_times.json")
    times.add("x", Restored("rain", 1.0, None))  # no exception: estimates are never worth an error
    assert times.of_way("x") == [Restored("rain", 1.0, None)]

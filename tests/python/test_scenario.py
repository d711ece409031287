import pathlib
import pickle

import pytest

import capexsim
from capexsim import Scenario, ScenarioError


def test_from_toml_resolves_defaults(reference_path):
    sc = Scenario.from_toml(reference_path)
    assert sc.name == "ai-lab-2025"
    d = sc.to_dict()
    assert d["cost"]["cost_per_gw"] == {"triangular": [40.0, 50.0, 60.0]}
    assert d["revenue"]["growth_reversion"] == 0.35
    assert d["opex"]["fixed_opex"] == 10.0
    assert d["build"]["pace_reversion"] == 2.0
    assert [c["name"] for c in d["contract"]] == ["azure", "oracle", "aws"]


def test_dict_round_trip(reference_path):
    sc = Scenario.from_toml(reference_path)
    again = Scenario.from_dict(sc.to_dict())
    assert again == sc
    assert again.fingerprint() == sc.fingerprint()
    assert Scenario.from_string(sc.to_toml()) == sc


def test_item_access_changes_and_validates(reference_path):
    sc = Scenario.from_toml(reference_path)
    before = sc.fingerprint()
    sc["cost"]["cost_per_gw"] = {"triangular": [40, 45, 55]}
    assert sc["cost"]["cost_per_gw"] == {"triangular": [40, 45, 55]}
    assert sc.fingerprint() != before
    with pytest.raises(ScenarioError) as e:
        sc["build"]["lead_time_years"] = -1
    assert e.value.key == "build.lead_time_years"
    assert "build.lead_time_years" in str(e.value)
    assert "> 0" in str(e.value)
    assert isinstance(e.value, ValueError)
    assert sc["build"]["lead_time_years"] == 1.5  # rolled back
    sc["contract"][0]["total"] = 300.0
    assert sc.to_dict()["contract"][0]["total"] == 300.0
    with pytest.raises(ScenarioError, match=r"contract\[1\]\.years"):
        sc["contract"][1]["years"] = 0


def test_errors_match_the_cpp_loader(tmp_path, reference_path):
    text = pathlib.Path(reference_path).read_text().replace("it_share = 0.6", "it_share = 1.6")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("it_share"))
    with pytest.raises(ScenarioError) as e:
        Scenario.from_toml(bad)
    assert e.value.file == str(bad)
    assert e.value.line == line
    assert e.value.key == "cost.it_share"
    assert str(e.value).startswith(f"{bad}:{line}:")
    with pytest.raises(ScenarioError, match="cannot open"):
        Scenario.from_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "section,key,value,expected",
    [
        ("build", "initial_gw", 0, "> 0"),
        ("cost", "cost_per_gw", {"uniform": [60, 40]}, "lo <= hi"),
        ("cost", "cost_per_gw", {"triangular": [40, 70, 60]}, "mode"),
        ("revenue", "growth0", {"normal": [0.3, -0.1]}, "sd >= 0"),
        ("cost", "learning_rate", 1.0, "[0, 1)"),
        ("cost", "useful_life_years", {"normal": [5, 1]}, "min"),
        ("build", "unknown_key", 1.0, "unknown key"),
    ],
)
def test_invalid_changes_raise(reference_path, section, key, value, expected):
    sc = Scenario.from_toml(reference_path)
    with pytest.raises(ScenarioError, match=expected.replace("[", r"\[").replace(")", r"\)")) as e:
        sc[section][key] = value
    assert e.value.key.startswith(f"{section}.{key}")


def test_from_dict_errors_name_the_key():
    with pytest.raises(ScenarioError) as e:
        Scenario.from_dict({"simulation": {"start": 2026, "horizon_years": 5}})
    assert e.value.key.startswith("build.")
    assert e.value.file == "<dict>"


def test_scenario_pickles(reference_path):
    sc = Scenario.from_toml(reference_path)
    assert pickle.loads(pickle.dumps(sc)) == sc


def test_simulate_accepts_path_dict_and_scenario(reference_path):
    sc = Scenario.from_toml(reference_path)
    a = capexsim.simulate(reference_path, paths=50, seed=3)
    b = capexsim.simulate(sc.to_dict(), paths=50, seed=3)
    c = capexsim.simulate(sc, paths=50, seed=3)
    assert (a.per_path == c.per_path)[~a.paths.isna().to_numpy()].all()
    assert a.scenario_fingerprint == b.scenario_fingerprint == c.scenario_fingerprint


def test_a_key_with_40000_parts_is_an_error_not_a_crash():
    # It overflowed the TOML parser's stack and killed the interpreter.
    with pytest.raises(ScenarioError, match="more than 64 dotted parts") as e:
        Scenario.from_string("a" + ".a" * 39999 + " = 1\n")
    assert e.value.line == 1
    with pytest.raises(ScenarioError, match="dotted parts"):
        Scenario.from_string("[" + "a." * 39999 + "a]\n")


def test_wrong_units_name_the_expected_unit(reference_path):
    sc = Scenario.from_toml(reference_path)
    with pytest.raises(ScenarioError, match=r"expected \$B/GW, e\.g\. 50; got 5e\+10") as e:
        sc["cost"]["cost_per_gw"] = 50e9
    assert e.value.key == "cost.cost_per_gw"
    with pytest.raises(ScenarioError, match=r"revenue\.arr0.*expected \$B/year.*wrong unit"):
        sc["revenue"]["arr0"] = 20e9
    with pytest.raises(ScenarioError, match="wrong unit"):
        sc["cost"]["cost_per_gw"] = 1e300
    sc["cost"]["cost_per_gw"] = 9000.0  # large but plausible
    assert sc["cost"]["cost_per_gw"] == 9000.0

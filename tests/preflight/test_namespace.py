"""A config key under a namespace nobody reads (a typo of the project's) is an error with a
did-you-mean, not a silently ignored setting; provider namespaces stay allowed."""
import pytest

from preflight.stackconfig import StackConfigError, load_stack_config


def write(tmp_path, stack_text: str, project: str = "name: aurorakit\nruntime: python\n"):
    (tmp_path / "Pulumi.yaml").write_text(project)
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_text)


@pytest.mark.parametrize("key, hint", [
    ("aurorakt:dbReaders", "did you mean aurorakit:dbReaders?"),
    ("Aurorakit:dbReaders", "did you mean aurorakit:dbReaders?"),
    ("aurorakit-dev:protect", "did you mean aurorakit:protect?"),
    ("awz:region", "did you mean aws:region?"),
    ("pulumii:tags", "did you mean pulumi:tags?"),
])
def test_a_misspelled_namespace_names_the_key_line_and_the_fix(tmp_path, key, hint):
    write(tmp_path, f"config:\n  aws:region: eu-west-1\n  {key}: 2\n")
    with pytest.raises(StackConfigError) as err:
        load_stack_config("dev", tmp_path)
    text = str(err.value)
    assert text.startswith(f"Pulumi.dev.yaml: line 3: config key '{key}' has namespace") and hint in text


def test_a_namespace_of_the_programs_own_is_fine(tmp_path):
    """`pulumi.Config("platform")` reads platform:apps; nothing tells preflight which namespaces a
    program reads, so only near-misses of a known one are refused (the benchmark program's case)."""
    write(tmp_path, "config:\n  platform:apps: 5\n  aurorakit:dbReaders: 2\n",
          "name: aurorakit-platform\nruntime: python\n")
    cfg = load_stack_config("dev", tmp_path)
    assert cfg["platform:apps"] == "5" and cfg["aurorakit:dbReaders"] == "2"  # the components' namespace
    write(tmp_path, "config:\n  aurorakit-platfrom:apps: 5\n", "name: aurorakit-platform\nruntime: python\n")
    with pytest.raises(StackConfigError, match="did you mean aurorakit-platform:apps"):
        load_stack_config("dev", tmp_path)


@pytest.mark.parametrize("namespace", ["aurora", "as", "ws", "shop", "awsome", "kubernetes"])
def test_a_namespace_that_is_no_typo_of_a_known_one_passes(tmp_path, namespace):
    write(tmp_path, f"config:\n  {namespace}:x: 1\n")
    assert load_stack_config("dev", tmp_path)[f"{namespace}:x"] == "1"


def test_project_engine_and_installed_provider_namespaces_are_fine(tmp_path):
    write(tmp_path, "config:\n  aws:region: eu-west-1\n  aurorakit:dbReaders: 2\n  random:x: y\n"
                    "  pulumi:tags: {team: db}\n  protect: true\n")
    cfg = load_stack_config("dev", tmp_path)
    assert cfg["aurorakit:dbReaders"] == "2" and cfg["aurorakit:protect"] == "true"
    assert cfg.lines == {"aws:region": 2, "aurorakit:dbReaders": 3, "random:x": 4, "pulumi:tags": 5,
                         "aurorakit:protect": 6}


def test_the_project_file_is_checked_as_well(tmp_path):
    write(tmp_path, "config: {}\n", "name: aurorakit\nruntime: python\nconfig:\n  aurorakti:x: 1\n")
    with pytest.raises(StackConfigError, match="Pulumi.yaml: config key 'aurorakti:x' .* did you mean aurorakit:x"):
        load_stack_config("dev", tmp_path)

from conftest import SEEDS, newsgraph


def test_seed_then_query_the_shipped_article(tmp_path, api_for, run):
    result = newsgraph("seed", str(SEEDS), "--db", str(tmp_path / "db.json"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded 1: 1 new, 0 updated, 0 unchanged; 0 failed; 0 pruned in ")

    from graph.store.tinydb.store import TinyDBStore
    from conftest import Api

    store = TinyDBStore(tmp_path / "db.json")
    run(store.open())
    data = Api(store, run).data('{ article(id: "9a7be0820e1ffd4a") { title provider { name } related { title } } }')
    assert data["article"]["provider"]["name"] == "The Lens"
    assert data["article"]["related"][1]["title"].startswith("ACLU of Louisiana Obtains E-mails that Confirm NOPD’s")

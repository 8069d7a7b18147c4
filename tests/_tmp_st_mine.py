import subprocess
from tests.test_api_contract import ST, CONFIG, demo_server  # noqa: F401
from cmdb.graph.tokens import create_token
from cmdb.levels import service as levels
from cmdb.policy import Caller


def test_mine(demo_server, tmp_path):
    base, graph = demo_server
    levels.install_defaults(graph, Caller("x", "admin"))
    token = create_token(graph, "contract-admin", "admin")
    command = [ST, "--config-file", str(CONFIG), "--no-color", "run", f"{base}/openapi.json",
               "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful", "--seed", "1",
               "--include-path-regex", r"^/api/v1/(faults|service-levels|cis/\{key\}/service-level)",
               "--request-timeout", "60", "-H", f"Authorization: Bearer {token}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    open("/tmp/levels-st/out.txt", "w").write(result.stdout + result.stderr)
    assert result.returncode == 0

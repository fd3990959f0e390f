"""vpnpanel (the client and the simulator) runs without Django: the portal's settings reach it only
through the arguments ``provisioning.panels.panel_for`` passes."""

import subprocess
import sys

PROBE = """
import sys
import vpnpanel, vpnpanel.client, vpnpanel.simulator.server, vpnpanel.simulator.process
client = vpnpanel.PanelClient("http://127.0.0.1:9", "t" * 32)
print(client.timeouts, client.retry.attempts)
ours = {"django", "portal", "provisioning"}
print(sorted(name for name in sys.modules if name.split(".")[0] in ours))
"""


def test_the_panel_client_and_simulator_import_and_run_without_django():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )

    timeouts, loaded = result.stdout.strip().splitlines()
    assert timeouts == "Timeouts(connect=5.0, read=20.0) 3"
    assert loaded == "[]"

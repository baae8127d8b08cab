"""The deploy tool: the three SCF functions, their triggers, the execution role and Cloud
Infinite media processing for one bucket, converged from serverless.yml with the official Tencent
Cloud SDK for Python (``python -m deploy up|plan|status|down|rotate-secret``; docs/deploy.md).

May import the standard library, ``yaml``, the ``tencentcloud`` SDK (common, scf, cam: deploy-time
only, never in a function zip), ``deploy.runtime`` (serverless.yml loading) and, for the one XML
call to Cloud Infinite, ``shared.tencent`` (signing, transport, XML parsing) and the variable
names of ``shared.settings``. Nothing in ``shared``, ``functions`` or ``emulator`` may import this
package. Nothing here is built at import time: clients, clocks, sleeps and prompts are parameters.
No module here may print or log a secret value (SecretKey, tokens, the callback secret).
"""

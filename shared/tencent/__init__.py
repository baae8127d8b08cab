"""The wire to Tencent Cloud: signing, credentials, endpoints, transport, COS and CI clients, XML.

The one place that knows how COS and CI speak: request signing, hosts and paths, retries, every XML
body built or parsed (through defusedxml). May import the root modules and ``shared.media``
(jobs carry MediaInfo); must not import settings, use cases, ``functions`` or ``emulator``.
"""

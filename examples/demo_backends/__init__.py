"""Demo back-ends for the demo force (examples/demo-force): what its workflows call.

Not part of Waypost (the wheel never holds ``examples/``): a stand-in for a force's own systems,
so that ``make run`` shows a whole journey on one computer.

* :mod:`~examples.demo_backends.crime_records`: a crime records system on 127.0.0.1:8101;
* :mod:`~examples.demo_backends.mash`: a safeguarding hub (MASH) referral service on :8102;
* :mod:`~examples.demo_backends.mail`: an SMTP sink on :1025 with a page of its emails on :8103.

``python -m examples.demo_backends`` runs the three; ``python -m examples.demo_backends.run --
waypost serve ...`` runs them around a server and gives it their addresses (``make run``).
See docs/demo.md.
"""

from examples.demo_backends._runner import BackendsError, DemoBackends, Settings
from examples.demo_backends.crime_records import CrimeRecords
from examples.demo_backends.mail import MailSink, Received
from examples.demo_backends.mash import Mash

__all__ = ["BackendsError", "CrimeRecords", "DemoBackends", "MailSink", "Mash", "Received", "Settings"]

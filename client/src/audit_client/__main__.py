import sys

from audit_client.cli import main

sys.exit(main())

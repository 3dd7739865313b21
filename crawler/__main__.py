import sys

from crawler.run import main

sys.exit(main())

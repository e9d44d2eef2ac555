from crmtui.cli import main

raise SystemExit(main())

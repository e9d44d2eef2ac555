from crmtui.cli.app import main

raise SystemExit(main())

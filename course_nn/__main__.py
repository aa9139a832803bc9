from course_nn.cli import main

raise SystemExit(main())

from sonda_events.recorder.main import main

main()

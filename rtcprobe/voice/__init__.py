"""Voice building blocks shared by the probe and the reference target: the one VAD (vad.py) and
the utterances spoken and answered with (utterances.py, made by make_utterances.sh)."""

"""`llmplane smoke` and `bench` against a loopback stand-in for TGI, vLLM and SGLang."""

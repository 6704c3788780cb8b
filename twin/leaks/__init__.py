"""Leaks (跑冒滴漏): detection from make-up water and mass balance (``detect``), localization from the
twin's linearized pressure sensitivities (``sensitivity``, ``localize``), sensor coverage (``coverage``)."""

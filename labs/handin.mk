# `make handin`, shared by every lab's Makefile (lab.mk and Lab 00's): packs the files you
# submit, $(SUBMIT), into handin.tar.gz with MANIFEST.sha256, their hashes. The grader reports
# any file that differs from the manifest (changed after make handin, or the archive edited).

.PHONY: handin

handin: $(SUBMIT)
	sha256sum $(SUBMIT) > MANIFEST.sha256
	tar czf handin.tar.gz $(SUBMIT) MANIFEST.sha256
	@rm -f MANIFEST.sha256
	@echo "wrote handin.tar.gz with: $(SUBMIT) and MANIFEST.sha256"

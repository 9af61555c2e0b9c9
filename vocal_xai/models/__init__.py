"""Models of the zoo: the singing-voice detector and the conditional DCGAN."""

; 3-state busy beaver champion by steps (21 steps, 5 ones)
; standard text format: 1RB1RZ_1LB0RC_1LC1LA
name:    bb3
start:   A
blank:   0
halt:    Z
symbols: 0 1
states:  A B C Z

A 0 1 R B
A 1 1 R Z
B 0 1 L B
B 1 0 R C
C 0 1 L C
C 1 1 L A

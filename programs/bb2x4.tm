; 2-state 4-symbol busy beaver champion (3,932,964 steps, 2,050 non-blank)
; standard text format: 1RB2LA1RA1RA_1LB1LA3RB1RZ
name:    bb2x4
start:   A
blank:   0
halt:    Z
symbols: 0 1 2 3
states:  A B Z

A 0 1 R B
A 1 2 L A
A 2 1 R A
A 3 1 R A
B 0 1 L B
B 1 1 L A
B 2 3 R B
B 3 1 R Z

; Binary increment from the least significant (rightmost) digit: 1011 -> 1100.
; The head starts on the last digit; carries move left.
name:    binary increment
start:   A
blank:   _
halt:    H
symbols: _ 0 1
states:  A H
tape:    1 0 1 1
head:    3

A 1 0 L A
A 0 1 R H
A _ 1 R H

; U15,2 running the bi-tag system programs/bitag/double.bitag (Neary & Woods' encoding), compiled by mannsim
; initial word: e1 a1 a1
; direct interpretation: halts after 14 bi-tag steps with e2 a2 a2 a2 a2
; decode the result with: mannsim decode programs/bitag/double.bitag --program programs/bitag/double.tm
name:    U15,2 running programs/bitag/double.bitag
start:   A
blank:   0
symbols: 0 1
states:  A B C D E F G H I J K L M N O
tape:    11000101010100010001000000000000000000000000000000000000000000000000000000000000000000000000010001000000000000000000000001010101000000000000000000000000000000000001000100000000000000000000000001000100000000000000000000000101010101010001000100000000000000000000000101010101010001000100000001010110010101010101010101010101010101010101011101010111
head:    295

A 0 0 R B
A 1 1 R A
B 0 1 R C
B 1 1 R A
C 0 0 L G
C 1 0 L E
D 0 0 L F
D 1 1 L E
E 0 1 R A
E 1 1 L D
F 0 1 L D
F 1 1 L D
G 0 0 L H
G 1 1 L G
H 0 1 L I
H 1 1 L G
I 0 0 R A
I 1 1 L J
J 0 1 L K
K 0 0 R L
K 1 1 R N
L 0 0 R M
L 1 1 R L
M 0 0 L B
M 1 1 R L
N 0 0 L C
N 1 0 R O
O 0 0 R N
O 1 1 R N

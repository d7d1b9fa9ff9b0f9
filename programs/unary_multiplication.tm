; Unary multiplication m*n=: for each 1 of m (marked X) copies n (marked Y) after the '='.
; Expected: 11*111= (2 x 3) becomes 11*111=111111; halts in 'done'.
name:  unary multiplication
start: a
blank: _
halt:  done
tape:  11*111=

a 1 X R toB             ; take the next 1 of the first factor
a * * L unmark          ; none left: restore the first factor and stop
toB 1 1 R toB
toB * * R b
b 1 Y R toEnd           ; take the next 1 of the second factor
b Y Y R b
b = = L restore         ; second factor done: restore it
toEnd 1 1 R toEnd
toEnd Y Y R toEnd
toEnd = = R toEnd
toEnd _ 1 L backB       ; append one 1 to the product
backB 1 1 L backB
backB = = L backB
backB Y Y R b
restore Y 1 L restore
restore * * L backA
backA 1 1 L backA
backA X X R a
unmark X 1 L unmark
unmark _ _ R done

; Copy: duplicates a block of 1s after a blank separator, one 1 at a time.
; Expected: 111 becomes 111_111; halts in 'done' at cell 3.
name:  copy
start: s
blank: _
halt:  done
tape:  111

s 1 X R go              ; mark the next 1 to copy
s _ _ S done            ; reached the separator: all copied
go 1 1 R go
go _ _ R go2
go2 1 1 R go2
go2 _ 1 L back2         ; append a 1 to the copy
back2 1 1 L back2
back2 _ _ L back
back 1 1 L back
back X 1 R s            ; restore the mark and go on

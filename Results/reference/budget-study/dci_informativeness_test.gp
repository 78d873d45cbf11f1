set terminal pngcairo size 880,440 enhanced font 'DejaVu Sans,10' noenhanced
set output "dci_informativeness_test.png"
set title "dci.informativeness_test (mean ± std over seeds)"
set ylabel "dci.informativeness_test"
unset key
set grid ytics
set style fill solid 0.7
set boxwidth 0.6
set xtics rotate by 30 right
set xrange [-0.6:7.6]
plot 'dci_informativeness_test.dat' using 1:3:xtic(2) with boxes lc rgb '#2166ac', '' using 1:3:4 with yerrorbars lc rgb 'black' pt 0 lw 1.5

/** MaM demo: score partial text and partial Ising configurations live (the elements do the work). */
import { setupPage } from '../common/page.js';

setupPage();
